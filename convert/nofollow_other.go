//go:build !unix

package convert

// oNoFollow is 0 where open has no O_NOFOLLOW: srcDir.open still refuses
// a link, by the Lstat before the open and the SameFile check after.
const oNoFollow = 0
