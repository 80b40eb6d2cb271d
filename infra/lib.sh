# Sourced by every script in infra/ right after its `set -euo pipefail` (`. "$(dirname "$0")/lib.sh"`): a command
# that stops the script says so on stderr, with the script's name, the line and the command:
#   [sam-local] failed at line 59: podman images … | grep -E 'al2023-rapid' | xargs … (exit 1; pipeline: 0 1 0)
# The script still exits with that command's status. A failure inside a command substitution or a subshell is
# reported once, as the line of the script that ran it (the failing tool has usually printed its own error).
set -E   # errtrace: the trap below also fires in functions
infra_script_name=$(basename "$0")
infra_script_file=$(realpath "$0" 2>/dev/null || echo "$0")

infra_failed() { # status, pipeline statuses, line, command
  [ "$BASH_SUBSHELL" -eq 0 ] || return 0
  local status=$1 statuses=$2 line=$3 what=$4
  if [ "${statuses// /}" != "$statuses" ]; then
    # A pipeline: BASH_COMMAND holds only its last command, so quote the script's lines that end at $line (a
    # pipeline may continue over lines ending in `|`, `\`, `&&` or `||`).
    what=$(awk -v end="$line" '
      NR <= end { lines[NR] = $0 }
      END {
        start = end
        while (start > 1 && lines[start - 1] ~ /(\||\\|&&)[ \t]*$/) start--
        text = ""
        for (i = start; i <= end; i++) { l = lines[i]; sub(/^[ \t]+/, "", l); sub(/[ \t]*\\$/, "", l); text = text (text == "" ? "" : " ") l }
        print text
      }' "$infra_script_file" 2>/dev/null) || true
    [ -n "$what" ] || what=$4
    status="$status; pipeline: $statuses"
  fi
  case "$what" in *$'\n'*) what="${what%%$'\n'*} …" ;; esac   # a here-document: its first line
  printf '[%s] failed at line %s: %s (exit %s)\n' "$infra_script_name" "$line" "$what" "$status" >&2
}
trap 'infra_failed "$?" "${PIPESTATUS[*]}" "$LINENO" "$BASH_COMMAND"' ERR
