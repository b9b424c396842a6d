# gpu-agent as a flake: the package (deploy/nixos/package.nix) and the NixOS module
# (deploy/nixos/gpu-agent.nix). Use it from a system flake (docs/deploy-nixos.md):
#
#   inputs.gpu-agent.url = "github:OWNER/gpu-agent";          # or "path:/src/gpu-agent"
#   inputs.gpu-agent.inputs.nixpkgs.follows = "nixpkgs";
#   ...
#   modules = [ gpu-agent.nixosModules.default ./configuration.nix ];
#
# The module builds the package with the system's own nixpkgs (pkgs.callPackage), so the
# nixpkgs input below only serves `nix build .#gpu-agent`.
{
  description = "gpu-agent: NVIDIA GPU telemetry and VRAM arbitration for services sharing one GPU";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forEachSystem (pkgs: rec {
        gpu-agent = pkgs.callPackage ./deploy/nixos/package.nix { };
        default = gpu-agent;
      });

      nixosModules.gpu-agent = ./deploy/nixos/gpu-agent.nix;
      nixosModules.default = self.nixosModules.gpu-agent;

      overlays.default = final: prev: {
        gpu-agent = final.callPackage ./deploy/nixos/package.nix { };
      };
    };
}
