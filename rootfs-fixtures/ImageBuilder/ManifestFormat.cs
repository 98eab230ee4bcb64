namespace Hivelet.Fixtures;

/// <summary>OCI image-spec documents, or Docker schema 2 manifests and manifest lists.</summary>
public enum ManifestFormat
{
    Oci,
    Docker,
}
