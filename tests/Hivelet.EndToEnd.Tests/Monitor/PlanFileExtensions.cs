using System.Globalization;
using Hivelet.EndToEnd.Tests.Harness;

namespace Hivelet.EndToEnd.Tests.Monitor;

/// <summary>Numeric plan values (sizes, nanoseconds, flags) for the shared plan writer.</summary>
internal static class PlanFileExtensions
{
    public static PlanFile Set(this PlanFile plan, string key, long value) =>
        plan.Set(key, value.ToString(CultureInfo.InvariantCulture));
}
