//go:build unix

package regfile

import "syscall"

// nonBlock makes opening a FIFO return at once instead of waiting for a
// writer (and a device's open not wait for a carrier); on a regular file
// it has no effect: reads of regular files never return EAGAIN.
const nonBlock = syscall.O_NONBLOCK

// noFollowFlag makes open fail on a symbolic link at the path itself.
const noFollowFlag = syscall.O_NOFOLLOW
