# The smallest stand-ins for nixpkgs' lib, pkgs and module system that deploy/nixos/gpu-agent.nix,
# package.nix and flake.nix need, so that they can be evaluated here, where nixpkgs cannot be
# fetched (DeployNixosTest). They mirror nixpkgs' semantics only as far as these files use them:
# options with defaults and types (checked: bool, str, int, port, enum, listOf, attrsOf, nullOr,
# submodule), mkIf, mkMerge, mkDefault, and the lib functions below. They are no substitute for
# a build with real nixpkgs; docs/deploy-nixos.md says what that leaves unchecked.
rec {
  lib = rec {
    # --- options and types -------------------------------------------------------------------
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: mkOption { type = types.bool; default = false; description = "Whether to enable ${name}."; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    types = rec {
      simple = name: check: { inherit name check; };
      bool = simple "bool" builtins.isBool;
      str = simple "str" builtins.isString;
      int = simple "int" builtins.isInt;
      port = simple "port" (v: builtins.isInt v && v >= 0 && v <= 65535);
      path = simple "path" (v: builtins.isPath v || builtins.isString v);
      package = simple "package" (v: builtins.isAttrs v || builtins.isString v);
      anything = simple "anything" (v: true);
      enum = values: (simple "enum" (v: builtins.elem v values)) // { inherit values; };
      listOf = elem: { name = "listOf"; inherit elem; check = builtins.isList; };
      attrsOf = elem: { name = "attrsOf"; inherit elem; check = builtins.isAttrs; };
      nullOr = elem: { name = "nullOr"; inherit elem; check = v: true; };
      submodule = m: { name = "submodule"; options = m.options; check = builtins.isAttrs; };
    };

    # --- definitions -------------------------------------------------------------------------
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkDefault = content: { _type = "override"; inherit content; };

    # --- functions ---------------------------------------------------------------------------
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: a: if c then a else { };
    concatStringsSep = builtins.concatStringsSep;
    concatMap = builtins.concatMap;
    mapAttrs = builtins.mapAttrs;
    mapAttrsToList = f: a: map (n: f n a.${n}) (builtins.attrNames a);
    unique = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ];
    last = l: builtins.elemAt l (builtins.length l - 1);
    init = l: builtins.genList (builtins.elemAt l) (builtins.length l - 1);
    splitString = sep: s: builtins.filter builtins.isString (builtins.split (escapeRegex sep) s);
    escapeRegex = builtins.replaceStrings [ "\\" "[" "]" "{" "}" "(" ")" "." "*" "+" "?" "|" "^" "$" ]
      [ "\\\\" "\\[" "\\]" "\\{" "\\}" "\\(" "\\)" "\\." "\\*" "\\+" "\\?" "\\|" "\\^" "\\$" ];
    toInt = s: let n = builtins.fromJSON s; in if builtins.isInt n then n else throw "not an int: ${s}";
    hasInfix = infix: s: builtins.match ".*${escapeRegex infix}.*" s != null;
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    cleanSourceWith = { src, filter, ... }: { _type = "source"; inherit src filter; outPath = "/nix/store/00000000000000000000000000000000-source"; };
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
  };

  storePath = name: "/nix/store/00000000000000000000000000000000-${name}";

  # A derivation stand-in: its attributes, and an outPath so that "${drv}" works.
  derivation = name: attrs: attrs // { type = "derivation"; inherit name; outPath = storePath name; };

  pkgs = rec {
    inherit lib;
    system = "x86_64-linux";
    formats.yaml = { }: {
      type = lib.types.attrsOf lib.types.anything;
      generate = name: value: derivation name { yaml = value; };
    };
    writeTextDir = path: text: derivation "text-dir" { inherit path text; };
    runCommand = name: env: script: derivation name { inherit script; };
    makeWrapper = derivation "make-wrapper-hook" { };
    jre_headless = derivation "openjdk-headless-21" { };
    podman = derivation "podman" { };
    maven.buildMavenPackage = attrs: derivation "${attrs.pname}-${attrs.version}" attrs;
    callPackage = fn: overrides:
      let
        f = if builtins.isFunction fn then fn else import fn;
        wanted = builtins.functionArgs f;
        given = builtins.intersectAttrs wanted pkgs;
      in f (given // overrides);
    legacyPackages = { x86_64-linux = pkgs; aarch64-linux = pkgs; };
  };

  # --- the module system, in small --------------------------------------------------------
  isOption = v: builtins.isAttrs v && (v._type or null) == "option";

  # Checks value v against type t and fills in submodule defaults.
  resolve = where: t: v:
    if t.name == "submodule" then resolveOptions where t.options v
    else if t.name == "attrsOf" then
      (if builtins.isAttrs v then builtins.mapAttrs (n: x: resolve "${where}.${n}" t.elem x) v
       else throw "${where}: not an attribute set")
    else if t.name == "listOf" then
      (if builtins.isList v then map (resolve "${where}[]" t.elem) v else throw "${where}: not a list")
    else if t.name == "nullOr" then (if v == null then null else resolve where t.elem v)
    else if t.check v then v
    else throw "${where}: ${builtins.toJSON v} is not a valid ${t.name}";

  # The value of an option tree: user definitions where given, else defaults. A definition of
  # an option that does not exist is an error, as in nixpkgs.
  resolveOptions = where: opts: defs:
    let
      unknown = builtins.filter (n: !(opts ? ${n})) (builtins.attrNames defs);
    in
    if unknown != [ ] then throw "${where}: the option ${builtins.head unknown} does not exist"
    else builtins.mapAttrs (n: o:
      if isOption o then
        (if defs ? ${n} then resolve "${where}.${n}" o.type defs.${n}
         else if o ? default then o.default
         else throw "${where}.${n} is used but not defined")
      else resolveOptions "${where}.${n}" o (defs.${n} or { })) opts;

  # mkIf / mkMerge / mkDefault resolved; attribute sets merged recursively, lists concatenated.
  clean = v:
    if builtins.isAttrs v && v ? _type then
      (if v._type == "if" then (if v.condition then clean v.content else null)
       else if v._type == "merge" then builtins.foldl' merge { } (builtins.filter (x: x != null) (map clean v.contents))
       else if v._type == "override" then clean v.content
       else v)
    else if builtins.isAttrs v && !(v ? outPath) then
      let cleaned = builtins.mapAttrs (n: clean) v;
      in builtins.removeAttrs cleaned (builtins.filter (n: cleaned.${n} == null) (builtins.attrNames cleaned))
    else v;

  merge = a: b:
    if builtins.isAttrs a && builtins.isAttrs b && !(a ? outPath) && !(b ? outPath) then
      a // builtins.mapAttrs (n: bv: if a ? ${n} then merge a.${n} bv else bv) b
    else if builtins.isList a && builtins.isList b then a ++ b
    else if a == b then a
    else throw "conflicting definitions: ${builtins.toJSON a} and ${builtins.toJSON b}";

  # Evaluates a NixOS module against the user's definitions (`defs`, under services.gpu-agent
  # and anything else the module reads), and returns the configuration it defines.
  evalModule = module: defs:
    let
      # A fixed point, as in nixpkgs: option defaults may read the configuration.
      evaluated = module { inherit config lib pkgs; };
      config = {
        services = (defs.services or { }) // {
          gpu-agent = resolveOptions "services.gpu-agent" evaluated.options.services.gpu-agent (defs.services.gpu-agent or { });
        };
        systemd.package = derivation "systemd" { };
        virtualisation.podman.enable = (defs.virtualisation or { }).podman.enable or false;
      };
      result = clean evaluated.config;
      failed = builtins.filter (a: !a.assertion) (result.assertions or [ ]);
    in
    if failed != [ ] then throw "assertion failed: ${(builtins.head failed).message}"
    else { inherit config result; };
}
