# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for pinhole(8)                                   -*- shell-script -*-
#
# Installed as /usr/share/bash-completion/completions/pinhole. Self-contained: it does not
# need the bash-completion package's helpers, so it also works when sourced by hand.

# One line per subcommand: NAME, its options, then ':' and its positional arguments.
# An option written OPTION=WHAT takes a value, and WHAT says how to complete it: one of the
# kinds below, or a comma-separated list of the words it accepts. Positional arguments are
# a comma-separated list of kinds, one per argument; the last one repeats.
# Kinds: rules (*.rules files), file (any file), backend (the -b names), none (free text).
# A new command is one more line here.
_pinhole_spec='
compile   -b=backend --backend=backend -D=none --define=none -o=file --output=file --strict -W=error -h --help : rules
check     -W=error -D=none --define=none -h --help : rules
fmt       -w --write -h --help : rules
aggregate -h --help : file
apply     -n --dry-run --confirm=none -D=none --define=none --no-cache -q --quiet -f=text,json --format=text,json -h --help : rules
confirm   --cancel -t=none --table=none -h --help : none
diff      -f=text,markdown,json --format=text,markdown,json --max-size=none --exit-zero --live -D=none --define=none -h --help : rules
explain   -f=text,json --format=text,json -l=none --local=none -D=none --define=none -h --help : rules,none
match     -r=rules --rules=rules -D=none --define=none -p=file --pcap=file -f=text,jsonl --format=text,jsonl -h --help : none
guard     -r=rules --rules=rules -D=none --define=none --passive --fail-open --queue=none --log-group=none --resolver=none --queue-maxlen=none --steer=auto,nft,xt --no-steer --deny=reset,drop --ttl-min=none --ttl-max=none --refresh=auto,update,replace,delete --log-level=err,warning,notice,info,debug --stats-file=file --state-file=file --stats --format=text,json --uninstall -h --help : none
show      -f=text,json --format=text,json -t=none --table=none --sets-only -D=none --define=none -h --help : rules
remove    -n --dry-run -t=none --table=none --sets-only -D=none --define=none -f=text,json --format=text,json -h --help : rules
verify    -s=none --server=none -f=text,json --format=text,json -D=none --define=none -h --help : rules
'
_pinhole_backends='nft json iptables pf squid all'

# _pinhole_line CMD: prints CMD's line of the spec; fails for an unknown command.
_pinhole_line()
{
	local name rest
	while read -r name rest; do
		[[ $name == "$1" ]] && { printf '%s\n' "$rest"; return 0; }
	done <<<"$_pinhole_spec"
	return 1
}

# _pinhole_optkind CMD OPTION: prints what OPTION's value is; fails when OPTION is a flag
# (or unknown, which completes the same way).
_pinhole_optkind()
{
	local word
	for word in $(_pinhole_line "$1"); do
		[[ $word == : ]] && break
		[[ $word == "$2="* ]] && { printf '%s\n' "${word#*=}"; return 0; }
	done
	return 1
}

# _pinhole_reply KIND CUR: fills COMPREPLY with the completions of CUR for KIND.
_pinhole_reply()
{
	local IFS=$'\n'
	case $1 in
	rules)
		# .rules files, and directories to descend into.
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -X '!*.rules' -- "$2") $(compgen -d -- "$2")) ;;
	file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$2")) ;;
	backend) COMPREPLY=($(IFS=' '; compgen -W "$_pinhole_backends" -- "$2")) ;;
	none) COMPREPLY=() ;;
	*) COMPREPLY=($(IFS=','; compgen -W "$1" -- "$2")) ;;
	esac
}

_pinhole()
{
	local IFS=$' \t\n' cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]-} spec kinds opt kind word
	local i npos=0 only_args=0 glued=0 words=()
	COMPREPLY=()
	if ((COMP_CWORD == 1)) || [[ $cmd == help ]]; then
		((COMP_CWORD > 2)) && return 0
		while read -r word _; do [[ $word ]] && words+=("$word"); done <<<"$_pinhole_spec"
		((COMP_CWORD == 1)) && words+=(help --help --version)
		COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
		return 0
	fi
	spec=$(_pinhole_line "$cmd") || return 0

	# The value of an option: "-b nf", "--backend nf" or "--backend=nf" (bash splits
	# COMP_WORDS at '=', so the last one arrives as "--backend" "=" "nf").
	# A word glued to the one before by '=' that is not an option's value ("-D x=y") is free
	# text.
	opt=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $cur == = ]]; then
		cur='' glued=1
	elif [[ $opt == = ]] && ((COMP_CWORD > 2)); then
		opt=${COMP_WORDS[COMP_CWORD - 2]} glued=1
	fi
	if [[ $opt == -* ]] && kind=$(_pinhole_optkind "$cmd" "$opt"); then
		_pinhole_reply "$kind" "$cur"
		return 0
	fi
	((glued)) && return 0

	# Count the positional arguments before the cursor, skipping options and their values.
	for ((i = 2; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ $word == = ]]; then
			((i++)) # "=" and the word after it belong to the word before
		elif ((only_args)) || [[ $word != -* || $word == - ]]; then
			((npos++))
		elif [[ $word == -- ]]; then
			only_args=1
		elif [[ ${COMP_WORDS[i + 1]-} == = ]]; then
			((i += 2))
		elif _pinhole_optkind "$cmd" "$word" >/dev/null; then
			((i++))
		fi
	done
	if [[ $cur == -* ]] && ((!only_args)); then
		for word in ${spec% :*}; do words+=("${word%%=*}"); done
		COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
		return 0
	fi
	IFS=',' read -r -a kinds <<<"${spec##*: }"
	((npos >= ${#kinds[@]})) && npos=$((${#kinds[@]} - 1))
	_pinhole_reply "${kinds[npos]}" "$cur"
}

complete -F _pinhole pinhole
