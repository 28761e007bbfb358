# bash completion for fieldgate(1). Installed by the Debian package as
# /usr/share/bash-completion/completions/fieldgate; elsewhere, source it from ~/.bashrc.
#
# CLI11 (2.1) cannot generate completions, so this is written by hand: tests/install/check-completion.sh
# compares its commands and options with `fieldgate --help`, so a new command cannot be forgotten here.

_fieldgate() {
  local cur prev words cword
  _init_completion || return

  local commands="run check status reload get put keygen version"
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      -*) ;;
      *) command="${words[i]}"; break ;;
    esac
  done

  case "$prev" in
    -c|--config)
      _filedir toml
      return ;;
    -s|--socket)
      _filedir sock
      return ;;
    --log-level)
      mapfile -t COMPREPLY < <(compgen -W "error warning notice info debug" -- "$cur")
      return ;;
  esac

  local options=""
  case "$command" in
    "")
      mapfile -t COMPREPLY < <(compgen -W "$commands --help" -- "$cur")
      return ;;
    run) options="--config --log-level --help" ;;
    check|keygen)
      if [[ "$cur" != -* ]]; then
        _filedir
        return
      fi
      options="--help" ;;
    status) options="--json --prometheus --socket --timeout --help" ;;
    get|put) options="--socket --timeout --help" ;;
    reload) options="--socket --help" ;;
    version) options="--help" ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
}
complete -F _fieldgate fieldgate
