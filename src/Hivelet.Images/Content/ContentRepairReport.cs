namespace Hivelet.Images.Content;

/// <summary>What <see cref="LocalContentStore.Repair"/> found and did.</summary>
public sealed record ContentRepairReport(
    int TempFilesRemoved,
    int InvalidBlobsRemoved,
    int DeadIngestsRemoved,
    int PartialIngestsKept,
    int ActiveIngestsSkipped)
{
    public int TotalRemoved => TempFilesRemoved + InvalidBlobsRemoved + DeadIngestsRemoved;
}
