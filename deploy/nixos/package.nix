# gpu-agent built with nixpkgs' Maven builder: agent/target/gpu-agent.jar (the agent and its
# dependencies) and the launcher next to it in $out/share/gpu-agent, and bin/gpu-agent, a wrapper
# that sets JAVA_HOME to a headless JRE: neither systemd units nor Podman's hooks have java on
# their PATH, and the launcher finds Java through JAVA_HOME first.
#
# mvnHash pins the Maven dependencies (a fixed-output derivation). It cannot be computed without
# downloading them, so it starts as lib.fakeHash: the first build fails with
#   error: hash mismatch in fixed-output derivation ...-gpu-agent-0.1.0-maven-deps.drv':
#            specified: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
#               got:    sha256-...
# Put the "got:" value here (or pass mvnHash through .override / overrideAttrs) and build again.
# docs/deploy-nixos.md says which parts of this file were checked without nixpkgs and which were not.
{ lib
, maven
, makeWrapper
, jre_headless
, mvnHash ? lib.fakeHash
}:

maven.buildMavenPackage {
  pname = "gpu-agent";
  version = "0.1.0";

  # The repository without build outputs.
  src = lib.cleanSourceWith {
    src = ../..;
    filter = path: type:
      let base = baseNameOf path;
      in !(type == "directory" && (base == "target" || base == ".git" || base == "result"));
  };

  inherit mvnHash;
  # The agent and the modules it depends on; the tests run in the project's CI (they start
  # child JVMs, runc and systemd-analyze, which the build sandbox does not have).
  mvnParameters = "-pl agent -am -DskipTests";
  doCheck = false;

  nativeBuildInputs = [ makeWrapper ];

  installPhase = ''
    runHook preInstall
    install -Dm644 agent/target/gpu-agent.jar $out/share/gpu-agent/gpu-agent.jar
    install -Dm755 agent/target/gpu-agent $out/share/gpu-agent/gpu-agent
    makeWrapper $out/share/gpu-agent/gpu-agent $out/bin/gpu-agent \
      --set JAVA_HOME ${jre_headless}
    runHook postInstall
  '';

  meta = {
    description = "NVIDIA GPU telemetry (Prometheus) and VRAM arbitration for services sharing one GPU";
    mainProgram = "gpu-agent";
    platforms = lib.platforms.linux;
  };
}
