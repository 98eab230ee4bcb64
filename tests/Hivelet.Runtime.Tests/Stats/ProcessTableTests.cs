using System.Text;
using Hivelet.Runtime.Stats;

namespace Hivelet.Runtime.Tests.Stats;

public class ProcessTableTests
{
    [Fact]
    public void Stat_with_spaces_and_parentheses_in_the_name()
    {
        const string stat = "1234 (my (odd) cmd) S 1 1234 1234 34816 1234 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000 10 18446744073709551615";
        var p = ProcessTable.ParseStat(stat);
        Assert.NotNull(p);
        Assert.Equal(("my (odd) cmd", 1, 34816L, 300L, 12345L), p.Value);
        Assert.Null(ProcessTable.ParseStat("garbage"));
    }

    [Theory]
    [InlineData(0L, "?")]
    [InlineData(34816L, "pts/0")]
    [InlineData(34819L, "pts/3")]
    [InlineData(1025L, "tty1")]
    [InlineData(1088L, "ttyS0")]
    [InlineData(0x1234L, "?")]
    public void Tty_names_as_ps(long ttyNr, string expected) => Assert.Equal(expected, ProcessTable.FormatTty(ttyNr));

    [Fact]
    public void Times_and_command_as_ps()
    {
        Assert.Equal("00:00:03", ProcessTable.FormatCpuTime(3.9));
        Assert.Equal("01:01:01", ProcessTable.FormatCpuTime(3661));
        Assert.Equal("2-00:00:05", ProcessTable.FormatCpuTime(2 * 86400 + 5));
        var now = new DateTimeOffset(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);
        Assert.Equal("03:15", ProcessTable.FormatStime(now.AddMinutes(-45), now));
        Assert.Equal("Nov20", ProcessTable.FormatStime(now.AddDays(-5), now));
        Assert.Equal("2025", ProcessTable.FormatStime(now.AddYears(-1), now));
        Assert.Equal("sleep 30", ProcessTable.FormatCmd("sleep\u000030\u0000"u8, "sleep"));
        Assert.Equal("[kthreadd]", ProcessTable.FormatCmd(ReadOnlySpan<byte>.Empty, "kthreadd"));
        Assert.Equal(1000u, ProcessTable.ParseEffectiveUid("Name:\tx\nUid:\t0\t1000\t1000\t1000\nGid:\t0\t0\t0\t0\n"));
    }

    [Fact]
    public void Reads_this_process_from_proc_with_names_from_a_passwd_file()
    {
        var passwd = Path.GetTempFileName();
        try
        {
            uint euid = ProcessTable.ParseEffectiveUid(File.ReadAllText("/proc/self/status"));
            File.WriteAllText(passwd, $"someone:x:{euid}:{euid}::/:/bin/sh\n", new UTF8Encoding(false));
            int pid = Environment.ProcessId;
            var rows = new ProcessTable("/proc", passwd).Read([pid, int.MaxValue], DateTimeOffset.Now);
            var row = Assert.Single(rows);
            Assert.Equal(pid, row.Pid);
            Assert.Equal("someone", row.Uid);
            Assert.Equal(ProcessTable.FormatCmd(File.ReadAllBytes("/proc/self/cmdline"), "?"), row.Cmd);
            Assert.Equal(File.ReadAllText("/proc/self/stat").Split(") ")[1].Split(' ')[1], row.Ppid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Matches(@"^\d\d:\d\d$", row.Stime);
        }
        finally
        {
            File.Delete(passwd);
        }
    }
}
