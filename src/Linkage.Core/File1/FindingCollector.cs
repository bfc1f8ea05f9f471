namespace Linkage.File1;

/// <summary>Groups findings by (code, field), keeping the first lines in order and counting all of them.</summary>
internal sealed class FindingCollector(int maxLines)
{
    private readonly Dictionary<(string Code, string? Field), Group> _groups = [];

    public void Add(File1Rule rule, string? field, long line) => Add(rule, field, line, 1);

    /// <summary>Records a finding about the whole file (no line).</summary>
    public void AddFileLevel(File1Rule rule) => GetGroup(rule, null).Count++;

    /// <summary>Appends a detail to the group's message (e.g. which header names); never pass values from data rows.</summary>
    public void SetDetail(File1Rule rule, string? field, string detail) => GetGroup(rule, field).Detail = detail;

    public void Add(File1Rule rule, string? field, long line, long count)
    {
        var group = GetGroup(rule, field);
        group.Count += count;
        if (group.Lines.Count < maxLines)
        {
            group.Lines.Add(line);
        }
    }

    /// <summary>Adds lines known only at the end (sorted by the caller), with the count of all.</summary>
    public void AddLines(File1Rule rule, string? field, IEnumerable<long> firstLines, long count)
    {
        var group = GetGroup(rule, field);
        group.Count += count;
        foreach (long line in firstLines)
        {
            if (group.Lines.Count >= maxLines)
            {
                break;
            }

            group.Lines.Add(line);
        }
    }

    public long Count(File1Severity severity) =>
        _groups.Values.Where(g => g.Rule.Severity == severity).Sum(g => g.Count);

    public List<File1Finding> ToFindings() =>
        _groups.Values
            .OrderBy(g => g.Rule.Severity)
            .ThenBy(g => g.Lines.Count == 0 ? 0 : g.Lines[0])
            .ThenBy(g => g.Rule.Code, StringComparer.Ordinal)
            .ThenBy(g => g.Field, StringComparer.Ordinal)
            .Select(g => new File1Finding(
                g.Rule.Code,
                g.Rule.Severity,
                g.Field,
                [.. g.Lines.Order()],
                g.Count,
                g.Detail is null ? g.Rule.Message(g.Field) : g.Rule.Message(g.Field) + " " + g.Detail))
            .ToList();

    private Group GetGroup(File1Rule rule, string? field)
    {
        if (!_groups.TryGetValue((rule.Code, field), out var group))
        {
            group = new Group(rule, field);
            _groups.Add((rule.Code, field), group);
        }

        return group;
    }

    private sealed class Group(File1Rule rule, string? field)
    {
        public File1Rule Rule { get; } = rule;
        public string? Field { get; } = field;
        public List<long> Lines { get; } = [];
        public long Count { get; set; }
        public string? Detail { get; set; }
    }
}
