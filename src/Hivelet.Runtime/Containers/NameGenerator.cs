using System.Security.Cryptography;

namespace Hivelet.Runtime.Containers;

/// <summary>Docker-like container names: "adjective_noun", with a number appended on a collision.</summary>
public static class NameGenerator
{
    // Our own lists (words for calm things and for things on a small board), not Docker's.
    internal static readonly string[] Adjectives =
    [
        "agile", "amber", "ancient", "bold", "brave", "bright", "brisk", "busy", "calm", "clever",
        "cosmic", "crisp", "curious", "daring", "dreamy", "eager", "early", "fancy", "fearless", "fluffy",
        "frosty", "gentle", "giddy", "golden", "happy", "hardy", "humble", "jolly", "keen", "kind",
        "lively", "lucky", "merry", "mighty", "misty", "modest", "nimble", "noble", "patient", "plucky",
        "polite", "proud", "quick", "quiet", "rapid", "rusty", "serene", "shiny", "silent", "snowy",
        "spry", "steady", "stoic", "sunny", "swift", "tender", "tidy", "tiny", "vivid", "witty",
    ];

    internal static readonly string[] Nouns =
    [
        "acorn", "anvil", "badger", "beacon", "beetle", "bramble", "breeze", "buzzard", "cactus", "canyon",
        "capacitor", "cedar", "comet", "cricket", "diode", "dolphin", "ember", "falcon", "fern", "firefly",
        "fjord", "gecko", "glacier", "harbor", "hazel", "heron", "hive", "kestrel", "lantern", "lichen",
        "magpie", "maple", "meadow", "nebula", "otter", "owl", "pebble", "pixel", "quartz", "raven",
        "reef", "resistor", "robin", "sparrow", "spruce", "squirrel", "summit", "thistle", "thrush", "tulip",
        "tundra", "walnut", "wasp", "willow", "wombat", "wren", "yak", "zephyr", "bee", "drone",
    ];

    public static string Generate() =>
        $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}_{Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)]}";

    /// <summary>A generated name not in <paramref name="taken"/>; after a few collisions a digit is appended, as Docker does.</summary>
    public static string GenerateUnique(Func<string, bool> taken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var name = Generate();
            if (attempt >= 10)
                name += RandomNumberGenerator.GetInt32(10).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!taken(name))
                return name;
        }
    }
}
