#!/usr/bin/env bash
# Checks SwiftMPI's layer rules (docs/Design.md, Layers) against the source: every `import` of one of
# the package's own modules, and every dependency Package.swift declares.
#
#   Tests/Scripts/check-layers.sh [PACKAGE_ROOT]     (default: the package this script is in)
#
# The rules — which of our modules each layer may import and depend on:
#
#   CShims                       nothing of ours (C; its quoted #includes stay inside CShims/)
#   SwiftMPIWireup               CShims
#   SwiftMPITrace                SwiftMPIWireup (trace files, their merge, the profile; file access through
#                                the one system-call helper)
#   SwiftMPITransport            CShims, SwiftMPIWireup                  (never SwiftMPI)
#   SwiftMPI                     SwiftMPITransport, SwiftMPIWireup, SwiftMPITrace, CShims
#   the launcher: swiftmpirun (Launcher/swiftmpirun) and SwiftMPILauncherParsing (Launcher/Parsing)
#                                SwiftMPIWireup, SwiftMPITrace, CShims, SwiftMPILauncherParsing
#                                (never SwiftMPITransport or SwiftMPI: it shares only the wire-up
#                                module and the C shims with the runtime)
#   the C interface: CMPI (CInterface/CMPI: mpi.h and C)   nothing of ours
#                    SwiftMPIC (CInterface/SwiftMPIC)       SwiftMPI, CMPI (only the public Swift API:
#                                                          the C layer is thin, over what Swift users have)
#   tests, examples, benchmarks  unrestricted
#
# and, for every target: a module it imports must be among its dependencies in Package.swift (a module
# that is only reachable through another dependency does not count). Any target under Sources/,
# Launcher/, CShims/ or CInterface/ must have a rule here.
#
# Import lines are read in every form Swift accepts (`import X`, `@testable import X`,
# `internal import X`, `@_implementationOnly import X`, `@preconcurrency import X`,
# `import struct X.Y`, ...), also inside `#if` blocks. Modules that are not targets of this package
# (Glibc, Foundation, Testing, ...) are not checked.
#
# Prints one line per violation (file:line: what, and the rule) and exits with 1 when there is any;
# 0 when the tree follows the rules; 2 when Package.swift cannot be read.
set -euo pipefail

root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
root="${root%/}"
manifest="$root/Package.swift"
[[ -f "$manifest" ]] || { echo "check-layers: no Package.swift in $root" >&2; exit 2; }

# MARK: - The rules

launcher_rule="SwiftMPIWireup SwiftMPITrace CShims SwiftMPILauncherParsing"
declare -A allowed=(
    [CShims]=""
    [SwiftMPIWireup]="CShims"
    [SwiftMPITrace]="SwiftMPIWireup"
    [SwiftMPITransport]="CShims SwiftMPIWireup"
    [SwiftMPI]="SwiftMPITransport SwiftMPIWireup SwiftMPITrace CShims"
    [swiftmpirun]="$launcher_rule"
    [SwiftMPILauncherParsing]="$launcher_rule"
    [CMPI]=""
    [SwiftMPIC]="SwiftMPI CMPI"
)
declare -A why=(
    [CShims]="CShims is the bottom layer and uses nothing of ours"
    [SwiftMPIWireup]="the wire-up layer uses only CShims"
    [SwiftMPITrace]="the trace module uses only SwiftMPIWireup (its system-call helper)"
    [SwiftMPITransport]="transports use only CShims and SwiftMPIWireup, never the engine (SwiftMPI)"
    [SwiftMPI]="the runtime uses only SwiftMPITransport, SwiftMPIWireup, SwiftMPITrace and CShims"
    [swiftmpirun]="the launcher shares only SwiftMPIWireup, SwiftMPITrace and CShims with the runtime (never SwiftMPITransport or SwiftMPI)"
    [SwiftMPILauncherParsing]="the launcher shares only SwiftMPIWireup, SwiftMPITrace and CShims with the runtime (never SwiftMPITransport or SwiftMPI)"
    [CMPI]="the C interface's header and C twins use nothing of ours"
    [SwiftMPIC]="the C interface is a thin layer over SwiftMPI's public API (and its own header), never the transports or wire-up"
)

# MARK: - The targets of Package.swift

# One line per target: name, kind, path, declaration line, then dependency@line ... (tab-separated).
# A small reader of the manifest's `.target(...)` calls: comments are dropped, parentheses and
# brackets are matched outside string literals; the first `name:` of a call is the target's, `path:`
# its directory (default Sources/NAME, Tests/NAME for test targets), and every string in its
# `dependencies: [...]` except `package:` values a dependency.
targets=$(awk '
    function strip_comment(line,    i, c, quoted) {
        quoted = 0
        for (i = 1; i <= length(line); i++) {
            c = substr(line, i, 1)
            if (c == "\\" && quoted) { i++; continue }
            if (c == "\"") quoted = !quoted
            if (!quoted && substr(line, i, 2) == "//") return substr(line, 1, i - 1)
        }
        return line
    }
    { text = text strip_comment($0) "\n" }
    function line_at(position,    prefix) {
        prefix = substr(text, 1, position)
        return gsub(/\n/, "\n", prefix) + 1
    }
    # The position of the character closing the bracket opened at `open`.
    function closing(open,    i, c, depth, quoted) {
        depth = 0; quoted = 0
        for (i = open; i <= length(text); i++) {
            c = substr(text, i, 1)
            if (quoted) { if (c == "\\") i++; else if (c == "\"") quoted = 0; continue }
            if (c == "\"") quoted = 1
            else if (c == "(" || c == "[") depth++
            else if (c == ")" || c == "]") { depth--; if (depth == 0) return i }
        }
        return length(text)
    }
    function string_after(segment, label,    rest) {
        if (!match(segment, label "[ \t\n]*\"[^\"]*\"")) return ""
        rest = substr(segment, RSTART, RLENGTH)
        sub(/^[^\"]*\"/, "", rest); sub(/\"$/, "", rest)
        return rest
    }
    END {
        start = 1
        while (match(substr(text, start), /\.(target|executableTarget|testTarget|systemLibrary|binaryTarget|macro|plugin)\(/)) {
            call = start + RSTART - 1
            kind = substr(text, call + 1, RLENGTH - 2)
            open = call + RLENGTH - 1
            shut = closing(open)
            segment = substr(text, open, shut - open + 1)
            name = string_after(segment, "name:")
            path = string_after(segment, "path:")
            if (path == "") path = (kind == "testTarget" ? "Tests/" : "Sources/") name
            dependencies = ""
            if (match(segment, /dependencies:[ \t\n]*\[/)) {
                list_open = open + RSTART + RLENGTH - 2
                list_close = closing(list_open)
                position = list_open
                while (position < list_close) {
                    list = substr(text, position, list_close - position)
                    if (!match(list, /"[^"]*"/)) break
                    quote = position + RSTART - 1
                    value = substr(text, quote + 1, RLENGTH - 2)
                    before = substr(text, position, quote - position)
                    if (before !~ /package:[ \t\n]*$/) dependencies = dependencies "\t" value "@" line_at(quote)
                    position = quote + RLENGTH
                }
            }
            if (name != "") printf "%s\t%s\t%s\t%d%s\n", name, kind, path, line_at(call), dependencies
            start = shut + 1
        }
    }
' "$manifest")
[[ -n "$targets" ]] || { echo "check-layers: found no targets in $manifest" >&2; exit 2; }

declare -A module_of path_of declared dependencies_of line_of
declare -A ours=()
names=()
while IFS=$'\t' read -r name kind path line rest; do
    module="${name//-/_}"  # a target's module name: its name with - as _
    names+=("$name")
    module_of[$name]=$module
    path_of[$name]=${path%/}
    line_of[$name]=$line
    dependencies_of[$name]=$rest
    declared[$name]=" "
    for dependency in $rest; do declared[$name]+="${dependency%@*} "; done
    ours[$module]=$name
done <<< "$targets"

violations=0
violation() { echo "$1"; violations=$((violations + 1)); }

is_allowed() {  # TARGET MODULE: whether the layer rules let TARGET use MODULE
    local target=$1 module=$2
    [[ -v allowed[$target] ]] || return 0
    [[ " ${allowed[$target]} " == *" $module "* ]]
}

# MARK: - Declared dependencies follow the rules

for name in "${names[@]}"; do
    path=${path_of[$name]}
    if [[ ! -v allowed[$name] && ( $path == Sources/* || $path == Launcher/* || $path == CShims* || $path == CInterface/* ) ]]; then
        violation "Package.swift:${line_of[$name]}: target $name ($path) has no layer rule: add one to Tests/Scripts/check-layers.sh and docs/Design.md (Layers)"
    fi
    for entry in ${dependencies_of[$name]}; do
        dependency=${entry%@*}
        [[ -v module_of[$dependency] ]] || continue  # another package's product
        if ! is_allowed "$name" "${module_of[$dependency]}"; then
            violation "Package.swift:${entry##*@}: $name depends on $dependency: ${why[$name]}"
        fi
    done
done

# MARK: - Imports follow the rules and the declared dependencies

# Each file belongs to the target with the longest path containing it (targets may nest).
owner_of() {
    local file=$1 best="" best_length=0 name path
    for name in "${names[@]}"; do
        path=${path_of[$name]}
        if [[ $file == "$path"/* && ${#path} -gt $best_length ]]; then
            best=$name
            best_length=${#path}
        fi
    done
    echo "$best"
}

declare -A seen_directory=()
for name in "${names[@]}"; do
    path=${path_of[$name]}
    [[ -d "$root/$path" && ! -v seen_directory[$path] ]] || continue
    seen_directory[$path]=1
    while IFS= read -r -d '' absolute; do
        file=${absolute#"$root"/}
        target=$(owner_of "$file")
        [[ -n "$target" ]] || continue
        case "$file" in
        *.swift)
            # file:line:module for every import of a module (attributes, access levels and
            # `import kind X.Y` forms included).
            while IFS=: read -r line module; do
                [[ -v ours[$module] ]] || continue
                [[ $module != "${module_of[$target]}" ]] || continue
                dependency=${ours[$module]}
                if ! is_allowed "$target" "$module"; then
                    violation "$file:$line: $target imports $module: ${why[$target]}"
                elif [[ ${declared[$target]} != *" $dependency "* ]]; then
                    violation "$file:$line: $target imports $module, which is not among its dependencies in Package.swift"
                fi
            done < <(awk '
                {
                    rest = $0
                    if (!sub(/^[ \t]*((@[A-Za-z_]+(\([^)]*\))?|public|package|internal|fileprivate|private|open)[ \t]+)*import[ \t]+/, "", rest)) next
                    sub(/^(typealias|struct|class|enum|protocol|let|var|func)[ \t]+/, "", rest)
                    if (match(rest, /^[A-Za-z_][A-Za-z0-9_]*/)) print FNR ":" substr(rest, 1, RLENGTH)
                }' "$absolute")
            ;;
        *.c | *.h)
            # C cannot import our Swift modules; it must not reach into other targets' files either.
            while IFS=: read -r line include; do
                if [[ $target == CShims ]]; then
                    violation "$file:$line: CShims includes \"$include\": ${why[CShims]} (its headers stay inside CShims/)"
                fi
            done < <(awk '/^[ \t]*#[ \t]*include[ \t]*"[^"]*\.\.\// {
                    include = $0; sub(/^[^"]*"/, "", include); sub(/".*$/, "", include); print FNR ":" include }' "$absolute")
            ;;
        esac
    done < <(find "$root/$path" -type f \( -name '*.swift' -o -name '*.c' -o -name '*.h' \) -print0 | sort -z)
done

if ((violations > 0)); then
    echo "check-layers: $violations violation(s) of the layer rules (Tests/Scripts/check-layers.sh, docs/Design.md: Layers)"
    exit 1
fi
echo "check-layers: ${#names[@]} targets follow the layer rules"
