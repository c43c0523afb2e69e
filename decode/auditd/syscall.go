package auditd

// syscallName names the system call number no of arch (audit's arch=,
// AUDIT_ARCH_X86_64 being c000003e), as log_format=ENRICHED would; only
// x86_64's calls that audit rules commonly watch are named, others stay
// numbers in syscall=.
func syscallName(arch, no string) string {
	if arch != "c000003e" && arch != "x86_64" {
		return ""
	}
	return x8664[no]
}

var x8664 = map[string]string{
	"0": "read", "1": "write", "2": "open", "3": "close", "4": "stat", "5": "fstat", "6": "lstat",
	"9": "mmap", "10": "mprotect", "16": "ioctl", "21": "access", "22": "pipe", "32": "dup", "33": "dup2",
	"41": "socket", "42": "connect", "43": "accept", "44": "sendto", "45": "recvfrom", "49": "bind",
	"50": "listen", "56": "clone", "57": "fork", "58": "vfork", "59": "execve", "60": "exit", "62": "kill",
	"63": "uname", "76": "truncate", "77": "ftruncate", "82": "rename", "83": "mkdir", "84": "rmdir",
	"85": "creat", "86": "link", "87": "unlink", "88": "symlink", "90": "chmod", "91": "fchmod",
	"92": "chown", "93": "fchown", "94": "lchown", "99": "sysinfo", "101": "ptrace", "103": "syslog",
	"105": "setuid", "106": "setgid", "113": "setreuid", "114": "setregid", "117": "setresuid",
	"119": "setresgid", "133": "mknod", "135": "personality", "157": "prctl", "161": "chroot",
	"165": "mount", "166": "umount2", "169": "reboot", "175": "init_module", "176": "delete_module",
	"188": "setxattr", "189": "lsetxattr", "190": "fsetxattr", "200": "tkill", "234": "tgkill",
	"257": "openat", "258": "mkdirat", "259": "mknodat", "260": "fchownat", "263": "unlinkat",
	"264": "renameat", "265": "linkat", "266": "symlinkat", "268": "fchmodat", "288": "accept4",
	"313": "finit_module", "316": "renameat2", "319": "memfd_create", "322": "execveat", "437": "openat2",
}
