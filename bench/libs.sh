# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the benchmarks that link pinhole's folder libraries into a program of their own:
#   cc ... $(pinhole_link BUILD_DIR) LIBS
# prints the public include folders of every layer and its static libraries, the highest
# layer first (a static library must come before the ones it uses).
pinhole_link() {
	local build=$1 layer flags=""
	for layer in compiler matcher backends review verify guard; do
		flags="$flags -I$build/include/$layer"
	done
	for layer in guard verify review backends matcher compiler; do
		[ -e "$build/libpinhole_$layer.a" ] && flags="$flags $build/libpinhole_$layer.a"
	done
	echo "$flags"
}
