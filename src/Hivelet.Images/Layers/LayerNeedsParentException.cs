namespace Hivelet.Images.Layers;

/// <summary>
/// A layer applied onto an empty overlay upper directory turned out to depend on the layers below it
/// (a hard link to one of their files, a parent directory it does not carry itself). Not a failure of
/// the layer: the caller discards the upper directory and applies the layer onto the merged view.
/// </summary>
internal sealed class LayerNeedsParentException(string reason) : Exception(reason);
