using ScmTools;

namespace ScmTools.Tests;

[Trait("Category", "Unit")]
public sealed class BenchmarkLogTests : IDisposable
{
    static readonly string[] Columns = ["date", "ratio", "command"];
    readonly string directory = Directory.CreateTempSubdirectory("bench-log-").FullName;

    string Doc => Path.Combine(directory, "BENCHMARKS.md");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void A_missing_section_is_created_at_the_end_with_header_and_row()
    {
        File.WriteAllLines(Doc, ["# Benchmarks", "", "## P1 sampler efficiency", "", "| a |", "| --- |", "| 1 |"]);

        BenchmarkLog.AppendRow("## P9 new", Columns, ["d1", "0.50", "`scmctl bench x`"], Doc);

        var lines = File.ReadAllLines(Doc);
        int heading = Array.IndexOf(lines, "## P9 new");
        Assert.True(heading > Array.IndexOf(lines, "| 1 |"), "the new section goes after the existing ones");
        Assert.Equal(["", "| date | ratio | command |", "| --- | --- | --- |", "| d1 | 0.50 | `scmctl bench x` |"], lines[(heading + 1)..(heading + 5)]);
    }

    [Fact]
    public void An_empty_existing_section_gets_its_table_right_under_the_heading_and_other_sections_are_untouched()
    {
        File.WriteAllLines(Doc, ["# Benchmarks", "", "## P1 sampler efficiency", "", "## P2 cluster overhead", ""]);

        BenchmarkLog.AppendRow("## P1 sampler efficiency", Columns, ["d1", "0.61", "c1"], Doc);

        var lines = File.ReadAllLines(Doc);
        int p1 = Array.IndexOf(lines, "## P1 sampler efficiency"), p2 = Array.IndexOf(lines, "## P2 cluster overhead");
        int row = Array.IndexOf(lines, "| d1 | 0.61 | c1 |");
        Assert.InRange(row, p1 + 1, p2 - 1);
        Assert.Equal("| date | ratio | command |", lines[row - 2]);
        Assert.Single(lines, l => l.StartsWith("| date", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_row_goes_directly_under_the_table_before_the_sections_prose()
    {
        File.WriteAllLines(Doc, ["# Benchmarks", "", "## P1 sampler efficiency", ""]);
        BenchmarkLog.AppendRow("## P1 sampler efficiency", Columns, ["d1", "0.61", "c1"], Doc);
        File.AppendAllLines(Doc, ["What limits the ratio: prose written under the table.", "", "## P2 cluster overhead", "", "| x |", "| --- |", "| y |"]);

        BenchmarkLog.AppendRow("## P1 sampler efficiency", Columns, ["d2", "0.72", "c|2"], Doc);

        var lines = File.ReadAllLines(Doc).ToList();
        int first = lines.IndexOf("| d1 | 0.61 | c1 |");
        Assert.Equal("| d2 | 0.72 | c/2 |", lines[first + 1]); // '|' in a cell would split the column
        Assert.Equal(["", "What limits the ratio: prose written under the table."], lines[(first + 2)..(first + 4)]);
        Assert.Equal("| y |", lines[^1]);
        Assert.Single(lines, l => l.StartsWith("| date", StringComparison.Ordinal));
    }

    [Fact]
    public void A_row_goes_under_the_sections_first_table_not_a_later_micro_benchmark_table()
    {
        File.WriteAllLines(Doc, ["# Benchmarks", "", "## P4 scale", "", "| date | ratio | command |", "| --- | --- | --- |", "| d1 | 0.9 | c1 |",
            "", "Micro-benchmarks:", "", "| devices | ns |", "| --- | --- |", "| 1 | 1,671 |"]);

        BenchmarkLog.AppendRow("## P4 scale", Columns, ["d2", "0.93", "c2"], Doc);

        var lines = File.ReadAllLines(Doc).ToList();
        Assert.Equal("| d2 | 0.93 | c2 |", lines[lines.IndexOf("| d1 | 0.9 | c1 |") + 1]);
        Assert.Equal("| 1 | 1,671 |", lines[^1]);
    }

    [Fact]
    public void Report_none_writes_nothing()
    {
        Assert.Null(BenchmarkLog.AppendRowIfWanted("none", "## P1 sampler efficiency", Columns, ["d", "r", "c"]));
        Assert.Empty(Directory.GetFiles(directory));
    }

    [Fact]
    public void Cells_must_match_the_columns()
    {
        Assert.Throws<ArgumentException>(() => BenchmarkLog.AppendRow("## P1", Columns, ["only one"], Doc));
    }
}
