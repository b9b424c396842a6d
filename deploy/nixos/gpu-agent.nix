# NixOS module for gpu-agent. Import it and set a package that provides bin/gpu-agent (the
# launcher with gpu-agent.jar next to it), e.g. in configuration.nix:
#
#   imports = [ ./deploy/nixos/gpu-agent.nix ];
#   services.gpu-agent = {
#     enable = true;
#     package = pkgs.callPackage ./gpu-agent-package.nix { };   # your build of agent/target
#     settings.services.ollama = { priority = "opportunistic"; request = "2560MiB"; fail-mode = "closed";
#                                  preemption = { action = "ollama-unload"; url = "http://127.0.0.1:11434"; }; };
#     admitUnits.ollama = { service = "ollama"; wait = "2m"; };
#     ociHook = true;
#   };
#
# Leaving settings empty runs the built-in default (Frigate, Jellyfin, Immich, Ollama on GPU 0).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.gpu-agent;
  yaml = pkgs.formats.yaml { };
  configFile =
    if cfg.configFile != null then cfg.configFile
    else if cfg.settings == { } then null
    else yaml.generate "gpu-agent.yaml" cfg.settings;
  exe = "${cfg.package}/bin/gpu-agent";
  hook = stage: timeout: builtins.toJSON {
    version = "1.0.0";
    hook = { path = exe; args = [ "gpu-agent" "hook" "oci" stage ]; inherit timeout; };
    when.annotations."^gpu-agent\\.service$" = ".+";
    stages = [ stage ];
  };
in
{
  options.services.gpu-agent = {
    enable = lib.mkEnableOption "gpu-agent, NVIDIA GPU telemetry and VRAM arbitration";

    package = lib.mkOption {
      type = lib.types.package;
      description = ''
        A package providing bin/gpu-agent (the launcher, next to its gpu-agent.jar) that finds a
        JDK 17+: wrap it with JAVA_HOME set (makeWrapper), since neither systemd units nor the
        build-time check-config have java on their PATH.
      '';
    };

    settings = lib.mkOption {
      type = yaml.type;
      default = { };
      description = ''
        The YAML configuration as Nix attributes (keys as in README.md, "Configuration reference", e.g.
        `sampling.interval = "1s"`). Empty: the built-in default. It is checked with
        `gpu-agent check-config` at build time.
      '';
    };

    configFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "A YAML configuration file; overrides settings.";
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

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Open the metrics port (9848) for a Prometheus on another host. The API stays on 127.0.0.1.";
    };

    admitUnits = lib.mkOption {
      default = { };
      description = ''
        systemd units that ask for VRAM before they start (ExecStartPre: gpu-agent admit) and
        give it back when they stop (ExecStopPost: gpu-agent release), holder systemd:<unit>.service.
      '';
      type = lib.types.attrsOf (lib.types.submodule {
        options = {
          service = lib.mkOption { type = lib.types.str; description = "The configured gpu-agent service."; };
          wait = lib.mkOption { type = lib.types.str; default = "2m"; description = "How long it may wait for VRAM."; };
          bytes = lib.mkOption {
            type = lib.types.nullOr lib.types.str;
            default = null;
            description = "Size to ask for (e.g. 2GiB); null: the service's configured request.";
          };
        };
      });
    };

    ociHook = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Install the OCI hooks (prestart admits, poststop releases) for containers annotated
        gpu-agent.service=NAME (podman run --annotation gpu-agent.service=frigate ...).
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];

    systemd.services = {
      gpu-agent = {
        description = "gpu-agent: NVIDIA GPU telemetry and VRAM arbitration";
        wantedBy = [ "multi-user.target" ];
        after = [ "network.target" ];
        # NVML is found in /run/opengl-driver/lib (where NixOS puts the driver's libraries).
        environment.GPU_AGENT_JAVA_OPTS = lib.concatStringsSep " " ([ "-Djna.tmpdir=/tmp" ] ++ cfg.extraJavaOptions);
        # systemctl and podman for preemption actions (restart-unit, stop-unit, stop-container).
        path = [ config.systemd.package ] ++ lib.optional config.virtualisation.podman.enable pkgs.podman;
        serviceConfig = {
          Type = "simple";
          ExecStart = lib.concatStringsSep " " ([ exe "run" "--backend" cfg.backend "--state-dir" "/var/lib/gpu-agent" ]
            ++ lib.optionals (configFile != null) [ "--config" "${configFile}" ]);
          SuccessExitStatus = 143;
          Restart = "on-failure";
          RestartSec = "5s";
          StateDirectory = "gpu-agent";
          StateDirectoryMode = "0700";
          UMask = "0077";
          DevicePolicy = "closed";
          DeviceAllow = [ "char-nvidia-frontend rw" "char-nvidia-caps r" "/dev/nvidiactl rw" ];
          NoNewPrivileges = true;
          ProtectSystem = "strict";
          ProtectHome = true;
          PrivateTmp = true;
          ProtectKernelTunables = true;
          ProtectKernelModules = true;
          ProtectKernelLogs = true;
          ProtectControlGroups = true;
          ProtectClock = true;
          ProtectHostname = true;
          RestrictNamespaces = true;
          RestrictRealtime = true;
          RestrictSUIDSGID = true;
          LockPersonality = true;
          SystemCallArchitectures = "native";
          RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" "AF_NETLINK" ];
        };
      };
    } // lib.mapAttrs (unit: a: {
      after = [ "gpu-agent.service" ];
      wants = [ "gpu-agent.service" ];
      serviceConfig = {
        ExecStartPre = [ ("${exe} admit --service ${a.service} --holder systemd:${unit}.service --wait ${a.wait}"
          + lib.optionalString (a.bytes != null) " --bytes ${a.bytes}"
          + lib.optionalString (configFile != null) " --config ${configFile}") ];
        ExecStopPost = [ "-${exe} release --holder systemd:${unit}.service" ];
        TimeoutStartSec = lib.mkDefault "3min";
      };
    }) cfg.admitUnits;

    environment.etc = lib.mkIf cfg.ociHook {
      "containers/oci/hooks.d/gpu-agent-hook.json".text = hook "prestart" 180;
      "containers/oci/hooks.d/gpu-agent-hook-poststop.json".text = hook "poststop" 30;
    };

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ 9848 ];

    # A configuration with a problem fails the build, with every problem and its line.
    system.checks = lib.optional (configFile != null) (pkgs.runCommand "gpu-agent-check-config" { } ''
      ${exe} check-config ${configFile} && touch $out
    '');
  };
}
