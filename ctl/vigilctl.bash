# bash completion for vigilctl                                 -*- shell-script -*-

_vigilctl()
{
	local cur prev words cword
	_init_completion || return

	local commands="status events metrics failover maintenance reload config key"
	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		-s) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	case "$prev" in
	-s)
		_filedir
		return
		;;
	--to)
		# the node names of the configuration on this machine
		local conf=/etc/vigil/vigil.conf names
		names=$(sed -n 's/.*name *= *"\([A-Za-z0-9._-]*\)".*/\1/p' "$conf" 2>/dev/null)
		COMPREPLY=($(compgen -W "$names" -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands -s --json --help --version" -- "$cur"))
		return
	fi
	case "$cmd" in
	status|metrics|reload) COMPREPLY=($(compgen -W "--json" -- "$cur")) ;;
	events) COMPREPLY=($(compgen -W "--follow --json" -- "$cur")) ;;
	failover) COMPREPLY=($(compgen -W "--to --json" -- "$cur")) ;;
	maintenance) COMPREPLY=($(compgen -W "on off --json" -- "$cur")) ;;
	config)
		if [[ $prev == config ]]; then
			COMPREPLY=($(compgen -W "diff push" -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--allow-down --json" -- "$cur"))
		else
			_filedir
		fi
		;;
	key)
		if [[ $prev == key ]]; then
			COMPREPLY=($(compgen -W "rotate" -- "$cur"))
		else
			_filedir
		fi
		;;
	esac
} &&
	complete -F _vigilctl vigilctl
