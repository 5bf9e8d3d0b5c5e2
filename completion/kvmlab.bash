# bash completion for kvmlab (installed by make install as
# $(PREFIX)/share/bash-completion/completions/kvmlab).  Options come from the
# command's own --help, built-in scenarios and bug slugs from 'kvmlab list',
# so nothing here can drift from the binary.
_kvmlab()
{
	local cur prev cmd words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "check replay stress oracle list help --version --help" -- "$cur"))
		return
	fi
	case "$prev" in
	--scenario)
		words=$("${COMP_WORDS[0]}" list 2>/dev/null | sed -n '/^scenarios:/,/^$/s/^  \([^ ]*\).*/\1/p')
		COMPREPLY=($(compgen -W "$words" -- "$cur") $(compgen -f -X '!*.scn' -- "$cur") $(compgen -d -- "$cur"))
		return ;;
	--bug)
		words=$("${COMP_WORDS[0]}" list 2>/dev/null | sed -n '/^bugs/,/^$/s/^  \([a-z][^ ]*\) .*/\1/p')
		[ "$cmd" = replay ] && words="$words none"
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return ;;
	--policy) COMPREPLY=($(compgen -W "vm vcpu" -- "$cur")); return ;;
	--vendor) COMPREPLY=($(compgen -W "svm vmx" -- "$cur")); return ;;
	--progress) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	--memory-model) COMPREPLY=($(compgen -W "sc tso" -- "$cur")); return ;;
	--find) COMPREPLY=($(compgen -W "case-1 case-2a case-2b stale-snapshot" -- "$cur")); return ;;
	--tsc-deadline) COMPREPLY=($(compgen -W "auto on off" -- "$cur")); return ;;
	--jobs) COMPREPLY=($(compgen -W "auto 1 2" -- "$cur")); return ;;
	--trace|--json|--corpus) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	if [ "$cmd" = help ]; then
		COMPREPLY=($(compgen -W "check replay stress oracle list" -- "$cur"))
		return
	fi
	if [[ "$cur" == -* ]]; then
		words=$("${COMP_WORDS[0]}" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)
		COMPREPLY=($(compgen -W "$words --help" -- "$cur"))
		return
	fi
	[ "$cmd" = replay ] && COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _kvmlab kvmlab
