using System.Text;

namespace Hivelet.Images.Oci;

public static class ChainId
{
    /// <summary>
    /// ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln))
    /// (image-spec config.md, "Layer ChainID").
    /// </summary>
    public static IReadOnlyList<Digest> Compute(IReadOnlyList<Digest> diffIds)
    {
        var result = new List<Digest>(diffIds.Count);
        foreach (var diff in diffIds)
        {
            result.Add(result.Count == 0
                ? diff
                : Digest.ComputeSha256(Encoding.ASCII.GetBytes($"{result[^1]} {diff}")));
        }
        return result;
    }
}
