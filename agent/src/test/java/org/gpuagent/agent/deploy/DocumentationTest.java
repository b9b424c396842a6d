package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README and the pages under docs/ hold together: every relative link and anchor resolves
 * inside the repository, the README stays short enough to read, every page says what it is for,
 * and the README's test command is the one CI runs.
 */
class DocumentationTest {
    private static final int README_MAX_LINES = 200;

    @Test
    void everyRelativeLinkAndAnchorResolves() {
        List<Path> files = MarkdownLinks.files(DeployTree.root());
        assertTrue(files.contains(DeployTree.root().resolve("README.md")), files.toString());
        assertTrue(files.size() >= 10, "the README and the docs/ pages: " + files);
        assertEquals(List.of(), MarkdownLinks.problems(DeployTree.root()));
    }

    @Test
    void theCheckerFindsMissingFilesAnchorsAndLinksOutOfTheTree(@TempDir Path dir) throws Exception {
        Path root = Files.createDirectories(dir.resolve("repo"));
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/page.md"), "# Page\n\nWhat it is for.\n\n## 1. Add the flake\n\n## Tests\n\n## Tests\n");
        Files.writeString(dir.resolve("outside.md"), "# Outside\n");
        Files.writeString(root.resolve("README.md"), String.join("\n",
                "# Readme",
                "[fine](docs/page.md) [anchor](docs/page.md#1-add-the-flake) [second](docs/page.md#tests-1)",
                "[upstream](https://example.org/x.md) `[in code](gone.md)` [self](#readme)",
                "```",
                "[in a fence](gone.md)",
                "```",
                "[gone](docs/gone.md) [bad anchor](docs/page.md#nothing) [out](../outside.md)",
                ""));
        assertEquals(List.of(
                "README.md:7: docs/gone.md: no such file",
                "README.md:7: docs/page.md#nothing: no heading with this anchor",
                "README.md:7: ../outside.md: points outside the repository"), MarkdownLinks.problems(root));
    }

    @Test
    void anchorsAreGitHubs() {
        assertEquals("1-add-the-flake", MarkdownLinks.slug("1. Add the flake"));
        assertEquals("metrics-on-client_javas-scrape-path-and-its-one-cache-issue-13",
                MarkdownLinks.slug("`/metrics` on client_java's scrape path, and its one cache (issue 13)"));
        assertEquals("the-agent-gpu-agent", MarkdownLinks.slug("The agent (`gpu-agent`)"));
        assertEquals("install-with-podmansystemd-elsewhere", MarkdownLinks.slug("Install with Podman/systemd elsewhere"));
    }

    @Test
    void theReadmeStaysShort() throws Exception {
        int lines = Files.readAllLines(DeployTree.root().resolve("README.md")).size();
        assertTrue(lines <= README_MAX_LINES, "README.md has " + lines + " lines; move detail to a docs/ page");
    }

    @Test
    void everyPageSaysWhatItIsForFirst() throws Exception {
        List<String> bad = new ArrayList<>();
        for (Path page : MarkdownLinks.files(DeployTree.root().resolve("docs"))) {
            List<String> text = Files.readAllLines(page).stream().filter(l -> !l.isBlank()).toList();
            if (text.size() < 2 || !text.get(0).startsWith("# ") || text.get(1).startsWith("#")) {
                bad.add(DeployTree.root().relativize(page).toString());
            }
        }
        assertEquals(List.of(), bad, "a title, then one sentence of what the page is for");
    }

    @Test
    void noDocumentPointsOutsideTheRepository() throws Exception {
        for (Path doc : MarkdownLinks.files(DeployTree.root())) {
            String text = Files.readString(doc);
            // The two spellings of the development machine's shared folder, built from parts so that
            // this file does not name it itself.
            String shared = ".." + "/shared/";
            assertFalse(text.contains(shared) || text.contains("/work" + "/shared"),
                    DeployTree.root().relativize(doc) + " cites a file outside the repository; copy the facts in");
        }
    }

    @Test
    void theReadmesTestCommandIsWhatCiRuns() throws Exception {
        List<String> ci = Files.readAllLines(DeployTree.root().resolve(".ci/run")).stream()
                .map(String::strip).filter(l -> l.startsWith("mvn ")).toList();
        assertEquals(1, ci.size(), ".ci/run runs one Maven command: " + ci);
        List<String> readme = Files.readAllLines(DeployTree.root().resolve("README.md"));
        int section = readme.indexOf("## The two commands");
        assertTrue(section >= 0, "the README has its two commands");
        List<String> commands = new ArrayList<>();
        boolean fenced = false;
        for (String line : readme.subList(section + 1, readme.size())) {
            if (line.startsWith("```")) {
                if (fenced) {
                    break;
                }
                fenced = true;
            } else if (fenced) {
                int comment = line.indexOf(" #");
                commands.add((comment < 0 ? line : line.substring(0, comment)).strip());
            }
        }
        assertEquals(2, commands.size(), commands.toString());
        assertEquals(ci.get(0), commands.get(1), "README's test command and .ci/run's must be the same");
    }
}
