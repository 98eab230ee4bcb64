using System.Diagnostics;
using Hivelet.Errors;
using Hivelet.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hivelet.Images.Layers;

/// <summary>
/// Unpacks a layer blob onto a directory in one streaming pass: decompress (gzip/zstd/plain by
/// magic), hash the tar (diff_id), read entries, apply them with whiteout semantics. The root must
/// already show the layers below (an overlay merged view or a copy).
/// </summary>
/// <remarks>
/// On failure, including a diff_id mismatch found after the last entry, the root is left partly
/// written: the caller applies into a scratch snapshot and discards it. Files are not fsync'ed one
/// by one; set <see cref="LayerApplyOptions.Sync"/> or sync before committing.
/// </remarks>
public sealed class LayerApplier(ILogger<LayerApplier>? logger = null)
{
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    public LayerApplyResult Apply(Stream layerBlob, string root, LayerApplyOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(layerBlob);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(options);
        string layer = options.LayerName ?? options.ExpectedDiffId?.ToString() ?? "(unnamed)";
        var clock = Stopwatch.StartNew();

        SafeDirectoryHandle rootHandle;
        try
        {
            rootHandle = Sys.OpenDirectory(root);
        }
        catch (ErrnoException e)
        {
            throw new HiveletException($"apply layer {layer}", e);
        }

        using (rootHandle)
        using (var tarStream = LayerDecompressor.Open(layerBlob, out var compression, leaveOpen: true))
        using (var hashing = new HashingStream(tarStream, leaveOpen: true))
        using (var reader = new TarReader(hashing, leaveOpen: true))
        using (var resolver = new RootedResolver(rootHandle, useOpenat2: !options.DisableOpenat2, _logger))
        using (var unpacker = new LayerUnpacker(resolver, layer, options.PreserveOwnership ?? Environment.IsPrivilegedProcess,
                   options.SkipUnpermittedDevices, _logger, ct, options.OverlayUpper))
        {
            LayersLog.ApplyStarted(_logger, layer, compression, root);
            int entries = 0;
            try
            {
                TarEntry? entry;
                while ((entry = reader.GetNextEntry()) != null)
                {
                    unpacker.Apply(entry, reader);
                    entries++;
                }
                unpacker.Finish();
                // The diff_id covers every byte of the tar, including padding after the end marker.
                hashing.Drain();
            }
            catch (InvalidInputException e) when (!e.Message.StartsWith("apply layer ", StringComparison.Ordinal))
            {
                throw new InvalidInputException($"apply layer {layer}: {e.Message}");
            }
            catch (InvalidDataException e)
            {
                throw new InvalidInputException($"apply layer {layer}: {compression} data is corrupt: {e.Message}");
            }
            catch (ZstdSharp.ZstdException e)
            {
                throw new InvalidInputException($"apply layer {layer}: zstd data is corrupt: {e.Message}");
            }
            catch (IOException e) when (e is not EndOfStreamException)
            {
                throw new HiveletException($"apply layer {layer}: read", e);
            }

            var diffId = hashing.CurrentDigest();
            if (options.ExpectedDiffId is { } expected && expected != diffId)
                throw new DigestMismatchException($"layer {layer}: diff_id mismatch: expected {expected}, got {diffId}");
            if (options.Sync)
            {
                try
                {
                    Sys.SyncFs(rootHandle, root);
                }
                catch (ErrnoException e)
                {
                    throw new HiveletException($"apply layer {layer}", e);
                }
            }
            LayersLog.Applied(_logger, layer, diffId.ToString(), entries, hashing.BytesRead, clock.ElapsedMilliseconds);
            return new LayerApplyResult { DiffId = diffId, UncompressedSize = hashing.BytesRead, Entries = entries };
        }
    }
}
