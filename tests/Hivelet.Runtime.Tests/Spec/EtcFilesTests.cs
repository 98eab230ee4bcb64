using Hivelet.Runtime.Spec;

namespace Hivelet.Runtime.Tests.Spec;

public class EtcFilesTests
{
    [Fact]
    public void Loopback_nameservers_are_dropped_and_google_dns_is_the_fallback()
    {
        var text = EtcFiles.ResolvConf("nameserver 127.0.0.53\noptions edns0\nsearch lan\n", false, out bool fallback);
        Assert.True(fallback);
        Assert.Equal("options edns0\nsearch lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n", text);
    }

    [Fact]
    public void Real_nameservers_are_kept()
    {
        var text = EtcFiles.ResolvConf("# from dhcp\nnameserver 192.168.1.1\nnameserver ::1\nnameserver fe80::1%eth0\n", false, out bool fallback);
        Assert.False(fallback);
        Assert.Equal("# from dhcp\nnameserver 192.168.1.1\nnameserver fe80::1%eth0\n", text);
    }

    [Fact]
    public void Host_network_uses_the_hosts_file_as_is()
    {
        Assert.Equal("nameserver 127.0.0.53\n", EtcFiles.ResolvConf("nameserver 127.0.0.53\n", true, out bool fallback));
        Assert.False(fallback);
        Assert.Equal("host hosts\n", EtcFiles.Hosts("h", true, "host hosts\n"));
    }

    [Fact]
    public void Unreadable_host_file_gives_the_fallback()
    {
        Assert.Equal("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", EtcFiles.ResolvConf(null, false, out _));
    }

    [Fact]
    public void Hosts_has_dockers_base_entries_and_the_hostname()
    {
        var hosts = EtcFiles.Hosts("abc123", false, null).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::\tip6-localnet",
             "ff00::\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters", "127.0.1.1\tabc123"],
            hosts);
    }

    [Fact]
    public void Systemd_resolved_stub_is_replaced_by_its_upstream_list()
    {
        using var dir = new TempDir();
        var stub = dir.WriteFile("resolv.conf", "nameserver 127.0.0.53\n");
        var upstream = dir.WriteFile("upstream.conf", "nameserver 10.0.0.1\n");
        Assert.Equal("nameserver 10.0.0.1\n", EtcFiles.ReadHostResolvConf(stub, upstream));
        Assert.Equal("nameserver 127.0.0.53\n", EtcFiles.ReadHostResolvConf(stub, dir.Sub("absent")));
    }
}
