# NixOS module for gpu-agent. The guide is docs/deploy-nixos.md; in short, with the flake:
#
#   imports = [ gpu-agent.nixosModules.default ];
#   services.gpu-agent = {
#     enable = true;                      # package: deploy/nixos/package.nix unless you set one
#     settings.services.ollama = { priority = "opportunistic"; request = "2560MiB"; fail-mode = "closed";
#                                  preemption = { action = "ollama-unload"; url = "http://127.0.0.1:11434"; }; };
#     admitUnits.ollama = { service = "ollama"; wait = "2m"; };              # nixpkgs' services.ollama
#     containers.frigate = { service = "frigate"; vram = "1.2GiB"; };       # virtualisation.oci-containers
#     ollamaProxy.enable = true;          # clients use http://127.0.0.1:11435 (docs/ollama.md)
#     prometheus = { scrape = true; rules = true; };
#     grafana.dashboard = true;
#   };
#
# Leaving settings empty runs the built-in default (Frigate, Jellyfin, Immich, Ollama on GPU 0).
# The unit's sandbox comes from ../systemd/sandbox.json, the same list deploy/systemd/gpu-agent.service
# is checked against, with exactly what the enabled preemption actions need.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.gpu-agent;
  sandbox = builtins.fromJSON (builtins.readFile ../systemd/sandbox.json);
  yaml = pkgs.formats.yaml { };
  # ollamaProxy fills settings.ollama; keys written there themselves win.
  settings = cfg.settings // lib.optionalAttrs cfg.ollamaProxy.enable {
    ollama = { inherit (cfg.ollamaProxy) listen upstream; } // (cfg.settings.ollama or { });
  };
  configFile =
    if cfg.configFile != null then cfg.configFile
    else if settings == { } then null
    else yaml.generate "gpu-agent.yaml" settings;
  exe = "${cfg.package}/bin/gpu-agent";
  # Every client the module writes passes the agent's configuration: its listen.api and state-dir,
  # and, when the agent is down, the service's configured fail mode (not the built-in one).
  configArgs = lib.optionals (configFile != null) [ "--config" "${configFile}" ];
  command = words: lib.concatStringsSep " " words;

  hook = stage: timeout: builtins.toJSON {
    version = "1.0.0";
    hook = { path = exe; args = [ "gpu-agent" "hook" "oci" stage ] ++ configArgs; inherit timeout; };
    when.annotations."^gpu-agent\\.service$" = ".+";
    stages = [ stage ];
  };
  hooksDir = "/etc/containers/oci/hooks.d";
  # Podman's own default list; setting hooks_dir replaces it, so it stays in.
  podmanHooksDirs = [ "/usr/share/containers/oci/hooks.d" ];

  # The preemption actions the configuration uses decide the unit's capabilities and paths.
  actionOf = s:
    let p = s.preemption or "none";
    in if builtins.isAttrs p then p.action or "none" else p;
  builtInActions = [ "ollama-unload" "restart-unit" ];
  configuredActions =
    if cfg.configFile != null then builtins.attrNames sandbox.actuators
    else if cfg.settings ? services then lib.unique (map actionOf (builtins.attrValues cfg.settings.services))
    else builtInActions;
  enabled = map (a: sandbox.actuators.${a}) (lib.unique ([ "none" ] ++ cfg.actuators));
  union = field: lib.unique (lib.concatMap (a: a.${field}) enabled);
  namespaces = union "namespaces";
  writablePaths = union "readWritePaths";

  metricsListen = (cfg.settings.listen or { }).metrics or "0.0.0.0:9848";
  metricsHost =
    let h = lib.concatStringsSep ":" (lib.init (lib.splitString ":" metricsListen));
    in if h == "0.0.0.0" || h == "[::]" || h == "" then "127.0.0.1" else h;

  # The dashboard picks its data source through a `datasource` template variable, which UI import
  # and file provisioning both fill (Grafana's default Prometheus data source); a configured uid
  # becomes that variable's current value.
  dashboardJson = builtins.fromJSON (builtins.readFile ../grafana/gpu-agent-dashboard.json);
  withDatasource = v:
    if v.name == "datasource" && cfg.grafana.datasource != null
    then v // { current = { selected = true; text = cfg.grafana.datasource; value = cfg.grafana.datasource; }; }
    else v;
  dashboards = pkgs.writeTextDir "gpu-agent-dashboard.json" (builtins.toJSON (dashboardJson // {
    templating = dashboardJson.templating // { list = map withDatasource dashboardJson.templating.list; };
  }));

  containerOptions = c:
    [ "--annotation=gpu-agent.service=${c.service}" ]
    ++ lib.optional (c.vram != null) "--annotation=gpu-agent.vram=${c.vram}"
    ++ lib.optional (c.wait != null) "--annotation=gpu-agent.wait=${c.wait}";
in
{
  options.services.gpu-agent = {
    enable = lib.mkEnableOption "gpu-agent, NVIDIA GPU telemetry and VRAM arbitration";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./deploy/nixos/package.nix { }";
      description = ''
        A package providing bin/gpu-agent that finds its jar and a Java 17+ with an empty
        environment (package.nix wraps the launcher with JAVA_HOME set to a headless JRE).
      '';
    };

    settings = lib.mkOption {
      type = yaml.type;
      default = { };
      description = ''
        The YAML configuration as Nix attributes (keys as in docs, "Configuration reference", e.g.
        `sampling.interval = "1s"`). Empty: the built-in default. It is checked with
        `gpu-agent check-config` at build time.
      '';
    };

    ollamaProxy = {
      enable = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = ''
          Run the Ollama admission proxy (docs/ollama.md): clients that talk to listen instead of
          Ollama get a VRAM lease per model before it loads. Point them at it, e.g.
          `services.open-webui.environment.OLLAMA_BASE_URL = "http://127.0.0.1:11435"`.
          Sets settings.ollama (more keys there: min-model-bytes, ps-interval, wait, max-body).
        '';
      };
      listen = lib.mkOption {
        type = lib.types.str;
        default = "127.0.0.1:11435";
        description = "Where clients reach the proxy (HOST:PORT).";
      };
      upstream = lib.mkOption {
        type = lib.types.str;
        default = "http://127.0.0.1:11434";
        description = "Ollama's own URL (nixpkgs' services.ollama listens on 127.0.0.1:11434).";
      };
    };

    configFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "A YAML configuration file; overrides settings. Set metricsPort and actuators to match it.";
    };

    backend = lib.mkOption {
      type = lib.types.enum [ "auto" "nvml" "sim" ];
      default = "nvml";
      description = "nvml on a GPU host (a missing driver is an error); auto falls back to the simulator.";
    };

    extraJavaOptions = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "Added to the launcher's JVM flags (GPU_AGENT_JAVA_OPTS).";
    };

    metricsPort = lib.mkOption {
      type = lib.types.port;
      default = lib.toInt (lib.last (lib.splitString ":" metricsListen));
      defaultText = lib.literalExpression "the port of settings.listen.metrics, else 9848";
      description = "The metrics port: what openFirewall opens and prometheus.scrape scrapes.";
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Open the metrics port (metricsPort) for a Prometheus on another host. The API stays on 127.0.0.1.";
    };

    actuators = lib.mkOption {
      type = lib.types.listOf (lib.types.enum (builtins.attrNames sandbox.actuators));
      default = configuredActions;
      defaultText = lib.literalExpression "the preemption actions of settings (every action with configFile)";
      description = ''
        The preemption actions the unit's sandbox allows: each adds the capabilities, writable
        paths and system calls it needs (deploy/systemd/sandbox.json; docs/deploy-systemd-podman.md,
        "The sandbox, per actuator").
      '';
    };

    admitUnits = lib.mkOption {
      default = { };
      description = ''
        systemd units that ask for VRAM before they start (ExecStartPre=+gpu-agent admit) and give
        it back when they stop (ExecStopPost=-+gpu-agent release), holder systemd:<unit>.service.
        The "+" runs them as root outside the unit's sandbox: nixpkgs' ollama (DynamicUser,
        MemoryDenyWriteExecute) could neither read the token nor start a JVM otherwise. For a
        container of virtualisation.oci-containers use containers.<name> instead.
      '';
      type = lib.types.attrsOf (lib.types.submodule {
        options = {
          service = lib.mkOption { type = lib.types.str; description = "The configured gpu-agent service."; };
          wait = lib.mkOption { type = lib.types.str; default = "2m"; description = "How long it may wait for VRAM."; };
          bytes = lib.mkOption {
            type = lib.types.nullOr lib.types.str;
            default = null;
            description = "Size to ask for (e.g. 2GiB, 1.2GiB); null: the service's configured request.";
          };
        };
      });
    };

    containers = lib.mkOption {
      default = { };
      description = ''
        Containers of virtualisation.oci-containers.containers that ask for VRAM: each gets the
        gpu-agent.service (and gpu-agent.vram, gpu-agent.wait) annotations, so the OCI hook admits
        it as oci:<id> when Podman starts it and releases it when it stops. Its processes count
        once, for that lease, whether podman-<name>.service runs it or not.
      '';
      type = lib.types.attrsOf (lib.types.submodule {
        options = {
          service = lib.mkOption { type = lib.types.str; description = "The configured gpu-agent service."; };
          vram = lib.mkOption {
            type = lib.types.nullOr lib.types.str;
            default = null;
            description = "Size to ask for (e.g. 1.2GiB); null: the service's configured request.";
          };
          wait = lib.mkOption {
            type = lib.types.nullOr lib.types.str;
            default = null;
            description = "How long the start may wait for VRAM (e.g. 30s); null: decide at once.";
          };
        };
      });
    };

    ociHook = lib.mkOption {
      type = lib.types.bool;
      default = cfg.containers != { };
      defaultText = lib.literalExpression "containers != { }";
      description = ''
        Install the OCI hooks (prestart admits, poststop releases) for containers annotated
        gpu-agent.service=NAME, in ${hooksDir}, and add that directory to Podman's hooks_dir.
      '';
    };

    prometheus = {
      scrape = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = "Add a gpu-agent job to services.prometheus.scrapeConfigs (this host's metrics port).";
      };
      rules = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = "Add deploy/prometheus/rules/gpu-agent.rules.yml to services.prometheus.ruleFiles.";
      };
    };

    grafana = {
      dashboard = lib.mkOption {
        type = lib.types.bool;
        default = false;
        description = "Provision deploy/grafana/gpu-agent-dashboard.json in services.grafana.";
      };
      datasource = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        description = "The uid of the Prometheus data source the provisioned dashboard queries first (null: Grafana's default Prometheus data source; the dashboard's data source menu can still switch).";
      };
    };
  };

  config = lib.mkIf cfg.enable (lib.mkMerge [
    {
      assertions = lib.mapAttrsToList (name: c: {
        assertion = !(cfg.admitUnits ? "podman-${name}");
        message = "services.gpu-agent: container ${name} is in both containers and admitUnits.podman-${name}: "
          + "that is two leases for one container; keep containers.${name}.";
      }) cfg.containers;

      environment.systemPackages = [ cfg.package ];

      systemd.services = {
        gpu-agent = {
          description = "gpu-agent: NVIDIA GPU telemetry and VRAM arbitration";
          wantedBy = [ "multi-user.target" ];
          after = [ "network.target" ];
          # NVML is found in /run/opengl-driver/lib (where NixOS puts the driver's libraries).
          environment.GPU_AGENT_JAVA_OPTS = lib.concatStringsSep " " ([ "-Djna.tmpdir=/tmp" ] ++ cfg.extraJavaOptions);
          # systemctl and podman for the preemption actions (restart-unit, stop-unit, stop-container).
          path = [ config.systemd.package ] ++ lib.optional config.virtualisation.podman.enable pkgs.podman;
          serviceConfig = sandbox.service // {
            ExecStart = command ([ exe "run" "--backend" cfg.backend "--state-dir" "/var/lib/gpu-agent" ] ++ configArgs);
            CapabilityBoundingSet = lib.concatStringsSep " " (union "capabilities");
            SystemCallFilter = lib.concatStringsSep " " (sandbox.systemCallFilter ++ union "systemCallFilter");
            RestrictNamespaces = if namespaces == [ ] then "yes" else lib.concatStringsSep " " namespaces;
          } // lib.optionalAttrs (writablePaths != [ ]) {
            ReadWritePaths = writablePaths;
          };
        };
      } // lib.mapAttrs (unit: a: {
        after = [ "gpu-agent.service" ];
        wants = [ "gpu-agent.service" ];
        serviceConfig = {
          ExecStartPre = [ ("+" + command ([ exe "admit" "--service" a.service "--holder" "systemd:${unit}.service"
            "--wait" a.wait ] ++ lib.optionals (a.bytes != null) [ "--bytes" a.bytes ] ++ configArgs)) ];
          ExecStopPost = [ ("-+" + command ([ exe "release" "--holder" "systemd:${unit}.service" ] ++ configArgs)) ];
          TimeoutStartSec = lib.mkDefault "3min";
        };
      }) cfg.admitUnits;

      # A configuration with a problem fails the build, with every problem and its line.
      system.checks = lib.optional (configFile != null) (pkgs.runCommand "gpu-agent-check-config" { } ''
        ${exe} check-config ${configFile} && touch $out
      '');
    }

    (lib.mkIf cfg.ociHook {
      environment.etc = {
        "containers/oci/hooks.d/gpu-agent-hook.json".text = hook "prestart" 180;
        "containers/oci/hooks.d/gpu-agent-hook-poststop.json".text = hook "poststop" 30;
      };
      # Podman reads only the hooks_dir list, whose default is /usr/share/containers/oci/hooks.d.
      virtualisation.containers.containersConf.settings.engine.hooks_dir = podmanHooksDirs ++ [ hooksDir ];
    })

    (lib.mkIf (cfg.containers != { }) {
      virtualisation.oci-containers.containers = lib.mapAttrs (name: c: {
        extraOptions = containerOptions c;
      }) cfg.containers;
    })

    (lib.mkIf cfg.openFirewall {
      networking.firewall.allowedTCPPorts = [ cfg.metricsPort ];
    })

    (lib.mkIf cfg.prometheus.scrape {
      services.prometheus.scrapeConfigs = [{
        job_name = "gpu-agent";
        scrape_interval = "15s";
        scrape_timeout = "5s";
        static_configs = [{ targets = [ "${metricsHost}:${toString cfg.metricsPort}" ]; }];
      }];
    })

    (lib.mkIf cfg.prometheus.rules {
      services.prometheus.ruleFiles = [ ../prometheus/rules/gpu-agent.rules.yml ];
    })

    (lib.mkIf cfg.grafana.dashboard {
      services.grafana.provision.enable = lib.mkDefault true;
      services.grafana.provision.dashboards.settings.providers = [{
        name = "gpu-agent";
        options.path = dashboards;
      }];
    })
  ]);
}
