// Package hocon is a fork of github.com/gurkankaymak/hocon v1.2.20 (MIT,
// see LICENSE), the HOCON parser that reads clearml.conf. The fork exists
// because upstream's parser never returns on some malformed input (the
// three bytes "[p " spin forever, allocating without bound); a
// configuration file is input the user may not control, and parsing it
// must always end. UPSTREAM.md describes the changes and upstream.patch
// holds them as a patch against v1.2.20, ready to offer upstream; drop the
// fork for upstream once a release carries them.
package hocon
