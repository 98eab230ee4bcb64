using System.CommandLine;
using Hivelet.Images.Content;
using Hivelet.Images.Layers;
using Hivelet.Images.Platforms;
using Hivelet.Images.Pulling;
using Hivelet.Images.Registry;
using Hivelet.Images.Registry.Credentials;
using Hivelet.Images.Registry.Tls;
using Hivelet.Images.Snapshots;
using Hivelet.Runtime.Cgroups;
using Hivelet.Runtime.Containers;
using Hivelet.Runtime.Lifecycle;
using Hivelet.Runtime.Volumes;
using Microsoft.Extensions.Logging;

namespace Hivelet.Cli;

/// <summary>
/// The composition root for one CLI invocation: builds the stores and clients from the global options,
/// lazily, so `hivelet version` touches nothing on disk. Repairs what a killed process left behind the
/// first time a store is opened, when <see cref="RepairGate"/> says there can be something to repair.
/// </summary>
public sealed class HiveletServices : IDisposable
{
    private readonly Lazy<HiveletConfig> _config;
    private readonly Lazy<StoreRoot> _root;
    private readonly Lazy<LocalContentStore> _content;
    private readonly Lazy<ImageStore> _images;
    private readonly Lazy<ISnapshotter> _snapshots;
    private readonly Lazy<RegistryClientFactory> _registries;
    private readonly Lazy<ICgroupManager> _cgroups;
    private readonly Lazy<ContainerStore> _containers;
    private readonly Lazy<VolumeStore> _volumes;
    private readonly Lazy<bool> _repaired;
    private RepairGate? _gate;

    public HiveletServices(GlobalOptions globals, ParseResult parse)
    {
        LoggerFactory = globals.CreateLoggerFactory(parse);
        var rootPath = parse.GetValue(globals.Root)!;
        var configPath = parse.GetValue(globals.Config)!;
        ConfigPath = configPath;
        _config = new(() => HiveletConfig.Load(configPath));
        _root = new(() =>
        {
            var root = new StoreRoot(rootPath);
            root.EnsureCreated();
            _gate = new RepairGate(root.Root);
            return root;
        });
        // A second pull of the same image waits for the first one's blobs instead of failing.
        _content = new(() => new LocalContentStore(Root, LoggerFactory.CreateLogger<LocalContentStore>())
        {
            IngestLockWait = TimeSpan.FromMinutes(10),
        });
        _images = new(() => new ImageStore(Root, LoggerFactory.CreateLogger<ImageStore>()));
        _snapshots = new(() => SnapshotterFactory.Create(Root.SnapshotsDir, Config.StorageDriver,
            LoggerFactory.CreateLogger<ISnapshotter>()));
        _cgroups = new(() => CgroupManager.ForHost(LoggerFactory.CreateLogger<CgroupManager>()));
        _volumes = new(() => new VolumeStore(Root.Root));
        _containers = new(() => new ContainerStore(Root, LoggerFactory.CreateLogger<ContainerStore>()));
        _repaired = new(RepairIfNeeded);
        _registries = new(() => new RegistryClientFactory(
            CredentialChain.ForRoot(Root.Root),
            new RegistryClientOptions
            {
                InsecureRegistries = new HashSet<string>(Config.InsecureRegistries, StringComparer.OrdinalIgnoreCase),
                MaxAttempts = Config.MaxDownloadAttempts,
                Trust = new RegistryTrust(Config.CertsRoots()),
            },
            LoggerFactory.CreateLogger<RegistryClient>()));
    }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The configuration file this command reads (it may not exist).</summary>
    public string ConfigPath { get; }
    public ICgroupManager Cgroups => _cgroups.Value;
    public ContainerStore Containers => Repaired(_containers);
    public VolumeStore Volumes => _volumes.Value;
    public LiveState Live => new(Containers, Cgroups, LoggerFactory.CreateLogger<LiveState>());

    /// <summary>This binary, for the monitor (`EXE __monitor`) and what it runs later (`EXE rm -f`, `EXE __exec`).</summary>
    public static string Exe => Environment.ProcessPath ?? "/proc/self/exe";

    public ContainerRuntime CreateRuntime() => new(Containers, Live, Cgroups, Snapshots, Content, Volumes, Exe,
        LoggerFactory.CreateLogger<ContainerRuntime>());
    public HiveletConfig Config => _config.Value;
    public StoreRoot Root => _root.Value;
    public LocalContentStore Content => Repaired(_content);
    public ImageStore Images => Repaired(_images);
    public ISnapshotter Snapshots => Repaired(_snapshots);
    public RegistryClientFactory Registries => _registries.Value;
    public StoreLock StoreLock => new(Root);

    public ImageUnpacker CreateUnpacker() => new(Content, Snapshots,
        new LayerApplier(LoggerFactory.CreateLogger<LayerApplier>()), LoggerFactory.CreateLogger<ImageUnpacker>())
    {
        Sizes = LayerSizes,
    };

    public LayerSizes LayerSizes => new(Root);

    public ImagePuller CreatePuller() => new(Registries, Content, Images, StoreLock, CreateUnpacker(),
        new PlatformMatcher(LoggerFactory.CreateLogger<PlatformMatcher>()), LoggerFactory.CreateLogger<ImagePuller>())
    {
        MaxConcurrentDownloads = Config.MaxConcurrentDownloads,
    };

    /// <summary>Containers as users of images: what rmi, image prune and the GC must not remove.</summary>
    public IImageUsers ImageUsers => new ContainerImageUsers(Containers, Live);

    public GarbageCollector CreateCollector() =>
        new(Content, Images, StoreLock, Snapshots, LoggerFactory.CreateLogger<GarbageCollector>()) { Users = ImageUsers, Sizes = LayerSizes };

    private T Repaired<T>(Lazy<T> store)
    {
        _ = _repaired.Value;
        return store.Value;
    }

    /// <summary>
    /// What killed commands left (temps, half-created containers and snapshots, stray mounts), in every
    /// store at once, but only when <see cref="RepairGate"/> says a command died or the machine rebooted
    /// since the last repair: a healthy store is not scanned on every command.
    /// </summary>
    private bool RepairIfNeeded()
    {
        _ = Root;
        if (_gate is not { Needed: true } gate)
            return false;
        _content.Value.Repair();
        _images.Value.Repair();
        _snapshots.Value.Repair();
        _containers.Value.EmptyTrash();
        // A create or rm killed halfway: its snapshot and cgroups go with its bundle.
        bool ran = _containers.Value.Repair(id =>
        {
            Cgroups.Open(id)?.Remove();
            _snapshots.Value.RemoveContainer(id);
        },
        // Groups of containers that no longer exist (bundle gone) go too, but only empty, old ones:
        // other store roots on this host share the cgroup parent.
        live => (Cgroups as CgroupManager)?.CleanupStale(live, CgroupManager.StaleGrace, killProcesses: false));
        if (ran && gate.BootChanged)
            RemoveAutoRemoveContainers();
        // Skipped (another command is creating): the dead commands stay recorded, so the next command repairs.
        if (ran)
            gate.Repaired();
        return true;
    }

    /// <summary>
    /// After a reboot, as Docker's daemon does at its start: `--rm` containers (none runs any more) are
    /// removed. Their layers were mounted volatile and could not be mounted again anyway.
    /// </summary>
    private void RemoveAutoRemoveContainers()
    {
        var store = _containers.Value;
        var runtime = new ContainerRuntime(store, new LiveState(store, Cgroups, LoggerFactory.CreateLogger<LiveState>()), Cgroups,
            _snapshots.Value, _content.Value, Volumes, Exe, LoggerFactory.CreateLogger<ContainerRuntime>());
        runtime.RemoveAutoRemoveContainers();
    }

    /// <summary>
    /// Ends this command's <see cref="RepairGate"/> marker early, for a command that replaces its process
    /// (exec) and so never reaches <see cref="Dispose"/>.
    /// </summary>
    public void EndCommand() => _gate?.Dispose();

    public void Dispose()
    {
        if (_registries.IsValueCreated)
            _registries.Value.Dispose();
        if (_snapshots.IsValueCreated && _snapshots.Value is IDisposable d)
            d.Dispose();
        _gate?.Dispose();
        LoggerFactory.Dispose();
    }
}
