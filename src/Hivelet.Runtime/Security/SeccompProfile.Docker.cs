using Hivelet.Interop;

namespace Hivelet.Runtime.Security;

public sealed partial class SeccompProfile
{
    /// <summary>
    /// Docker's default profile (moby/profiles seccomp/default.json, 2025: 361 unconditional names, io_uring
    /// blocked, AF_ALG and AF_VSOCK sockets refused), expressed as hivelet data rather than a JSON file.
    /// </summary>
    public static SeccompProfile DockerDefault { get; } = SeccompDefaultProfile.Build();
}

/// <summary>The rules of Docker's default profile, in its order (the order decides nothing but reads the same).</summary>
internal static class SeccompDefaultProfile
{
    /// <summary>Allowed for every container on every architecture (names an architecture lacks are skipped).</summary>
    internal static readonly string[] Unconditional =
    [
        "_llseek", "_newselect", "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
        "cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
        "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
        "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range",
        "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
        "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
        "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
        "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32",
        "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
        "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
        "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
        "futex_wake", "futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
        "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
        "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
        "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage",
        "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
        "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
        "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit",
        "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listmount",
        "listxattr", "listxattrat", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
        "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
        "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
        "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd",
        "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "open",
        "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
        "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
        "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
        "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
        "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename",
        "renameat", "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction",
        "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
        "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
        "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
        "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
        "sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid",
        "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
        "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
        "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setsockopt", "setuid",
        "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
        "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
        "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
        "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
        "unlink", "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
        "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",    ];

    /// <summary>Allowed only with CAP_SYS_ADMIN: mounts, namespaces, BPF, perf, host names, quotas, LSM attributes.</summary>
    internal static readonly string[] SysAdmin =
    [
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
        "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr", "move_mount",
        "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
        "syslog", "umount", "umount2", "unshare",
    ];

    /// <summary>The namespace flags clone() may not carry without CAP_SYS_ADMIN (NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET).</summary>
    internal const ulong CloneNamespaceFlags = 0x7E020000;

    /// <summary>personality() values Docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff.</summary>
    internal static readonly ulong[] Personalities = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

    internal const ulong AF_ALG = 38;
    internal const ulong AF_VSOCK = 40;

    internal static SeccompProfile Build()
    {
        var rules = new List<SeccompRule>
        {
            Allow(Unconditional),
            // ptrace is safe from kernel 4.8 on (seccomp is re-checked after the tracer changes the call).
            Allow(["process_vm_readv", "process_vm_writev", "ptrace"], includes: new([], [], new Version(4, 8))),
            // AF_ALG (38) and AF_VSOCK (40) are refused: kernel crypto and hypervisor sockets are attack surface.
            Allow(["socket"], [new SeccompArg(0, AF_ALG, 0, SeccompOp.LessThan)]),
            Allow(["socket"], [new SeccompArg(0, AF_ALG + 1, 0, SeccompOp.Equal)]),
            Allow(["socket"], [new SeccompArg(0, AF_VSOCK, 0, SeccompOp.GreaterThan)]),
        };
        foreach (var persona in Personalities)
            rules.Add(Allow(["personality"], [new SeccompArg(0, persona, 0, SeccompOp.Equal)]));
        rules.Add(Allow(["sync_file_range2", "swapcontext"], includes: Arches("ppc64le")));
        rules.Add(Allow(
            ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
            includes: Arches("arm", "arm64")));
        rules.Add(Allow(["arch_prctl"], includes: Arches("amd64", "x32")));
        rules.Add(Allow(["modify_ldt"], includes: Arches("amd64", "x32", "x86")));
        rules.Add(Allow(["open_by_handle_at"], includes: Caps(SeccompCapabilities.CAP_DAC_READ_SEARCH)));
        rules.Add(Allow(SysAdmin, includes: Caps(SeccompCapabilities.CAP_SYS_ADMIN)));
        // Without CAP_SYS_ADMIN, clone() may make threads and processes but no namespaces; s390 swaps the
        // first two arguments, which hivelet does not target.
        rules.Add(new SeccompRule(
            ["clone"],
            SeccompAction.Allow,
            [new SeccompArg(0, CloneNamespaceFlags, 0, SeccompOp.MaskedEqual)],
            SeccompFilterCondition.None,
            new([SeccompCapabilities.CAP_SYS_ADMIN], ["s390", "s390x"], null)));
        // clone3 passes its flags in memory that BPF cannot read: ENOSYS makes glibc fall back to clone().
        rules.Add(new SeccompRule(
            ["clone3"],
            SeccompAction.Errno(Errnos.ENOSYS),
            [],
            SeccompFilterCondition.None,
            Caps(SeccompCapabilities.CAP_SYS_ADMIN)));
        rules.Add(Allow(["reboot"], includes: Caps(SeccompCapabilities.CAP_SYS_BOOT)));
        rules.Add(Allow(["chroot"], includes: Caps(SeccompCapabilities.CAP_SYS_CHROOT)));
        rules.Add(Allow(["delete_module", "init_module", "finit_module"], includes: Caps(SeccompCapabilities.CAP_SYS_MODULE)));
        rules.Add(Allow(["acct"], includes: Caps(SeccompCapabilities.CAP_SYS_PACCT)));
        rules.Add(Allow(
            ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
            includes: Caps(SeccompCapabilities.CAP_SYS_PTRACE)));
        rules.Add(Allow(["iopl", "ioperm"], includes: Caps(SeccompCapabilities.CAP_SYS_RAWIO)));
        rules.Add(Allow(
            ["settimeofday", "stime", "clock_settime", "clock_settime64"],
            includes: Caps(SeccompCapabilities.CAP_SYS_TIME)));
        rules.Add(Allow(["vhangup"], includes: Caps(SeccompCapabilities.CAP_SYS_TTY_CONFIG)));
        rules.Add(Allow(
            ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"],
            includes: Caps(SeccompCapabilities.CAP_SYS_NICE)));
        rules.Add(Allow(["syslog"], includes: Caps(SeccompCapabilities.CAP_SYSLOG)));
        rules.Add(Allow(["bpf"], includes: Caps(SeccompCapabilities.CAP_BPF)));
        rules.Add(Allow(["perf_event_open"], includes: Caps(SeccompCapabilities.CAP_PERFMON)));

        var archMap = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["SCMP_ARCH_X86_64"] = ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            ["SCMP_ARCH_AARCH64"] = ["SCMP_ARCH_ARM"],
        };
        return new SeccompProfile(SeccompAction.Errno(Errnos.EPERM), [], archMap, rules, "default");
    }

    private static SeccompRule Allow(
        IReadOnlyList<string> names,
        IReadOnlyList<SeccompArg>? args = null,
        SeccompFilterCondition? includes = null) =>
        new(names, SeccompAction.Allow, args ?? [], includes ?? SeccompFilterCondition.None, SeccompFilterCondition.None);

    private static SeccompFilterCondition Caps(int cap) => new([cap], [], null);

    private static SeccompFilterCondition Arches(params string[] arches) => new([], arches, null);
}
