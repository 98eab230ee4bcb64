namespace Hivelet.Cli.Output;

/// <summary>Docker's column layout: left-aligned, three spaces between columns.</summary>
public static class Table
{
    public static void Write(TextWriter output, IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select(h => h.Length).ToArray();
        foreach (var row in rows)
        {
            for (int i = 0; i < row.Length && i < widths.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }
        WriteRow(output, header, widths);
        foreach (var row in rows)
            WriteRow(output, row, widths);
    }

    private static void WriteRow(TextWriter output, IReadOnlyList<string> cells, int[] widths)
    {
        var line = new System.Text.StringBuilder();
        for (int i = 0; i < cells.Count; i++)
        {
            if (i < cells.Count - 1)
                line.Append(cells[i].PadRight(widths[i] + 3));
            else
                line.Append(cells[i]);
        }
        output.WriteLine(line.ToString().TrimEnd());
    }
}
