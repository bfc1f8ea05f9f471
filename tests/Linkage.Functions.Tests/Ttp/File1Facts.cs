using Linkage.File1;

namespace Linkage.Functions.Tests.Ttp;

/// <summary>What a test needs to know about a File 1's content, read independently of the intake code.</summary>
internal sealed class File1Facts
{
    private readonly List<string[]> _rows = [];

    public sealed record CurrentRow(string StudyId, bool Active, bool NhsE);

    public List<CurrentRow> Current { get; } = [];

    public static File1Facts Read(string path)
    {
        var facts = new File1Facts();
        using var reader = new File1Reader(File.OpenRead(path));
        while (reader.Read())
        {
            var row = reader.Current;
            var fields = Enumerable.Range(0, File1Schema.FieldCount).Select(row.GetString).ToArray();
            facts._rows.Add(fields);
            if (fields[File1Schema.RowStatus] == "C")
            {
                facts.Current.Add(new CurrentRow(fields[File1Schema.StudyId], fields[File1Schema.UkllcStatus] == "1", fields[File1Schema.NhsELinkagePermission] == "1"));
            }
        }

        return facts;
    }

    public IEnumerable<string> NhsNumbersOf(string studyId) =>
        _rows.Where(r => r[File1Schema.StudyId] == studyId).Select(r => r[File1Schema.NhsNumber]).Where(n => n.Length > 0);

    /// <summary>Every identifying value of at least 5 characters (shorter ones, like "Ng" or "1", would match by chance), and every STUDY_ID.</summary>
    public IEnumerable<string> Identifiers()
    {
        foreach (var r in _rows)
        {
            yield return r[File1Schema.StudyId];
            foreach (int f in File1Schema.IdentifierFields)
            {
                if (r[f].Length >= 5 && r[f] != "9")
                {
                    yield return r[f];
                }
            }
        }
    }
}
