namespace Linkage.File1;

/// <summary>How the first line of a File 1 was understood.</summary>
public enum File1HeaderKind
{
    /// <summary>The stream holds no lines.</summary>
    None,

    /// <summary>The 34 names, exactly and in order.</summary>
    Exact,

    /// <summary>The first line is data: fields are read by position (a warning).</summary>
    Missing,

    /// <summary>A header whose names are wrong, missing, extra or out of order: fields are read by name where possible.</summary>
    Invalid,
}

/// <summary>What the header analysis found: the column of each schema field and the problems in the header.</summary>
internal sealed class File1Header
{
    public File1HeaderKind Kind { get; private init; }

    /// <summary>For each <see cref="File1Schema"/> index, the file column holding it, or -1.</summary>
    public int[] ColumnOf { get; private init; } = Positional();

    /// <summary>Number of values every data line must have.</summary>
    public int ExpectedFieldCount { get; private init; } = File1Schema.FieldCount;

    public List<string> MissingNames { get; } = [];
    public List<string> UnexpectedNames { get; } = [];
    public List<string> DuplicateNames { get; } = [];
    public List<string> MisorderedNames { get; } = [];
    public List<string> CaseMismatchedNames { get; } = [];
    public List<string> PaddedNames { get; } = [];

    public static File1Header NoLines() => new() { Kind = File1HeaderKind.None };

    /// <summary>Reads the first line: a header if it looks like one (see below), otherwise data.</summary>
    public static File1Header Analyse(File1CsvParser firstLine)
    {
        int count = firstLine.FieldCount;
        int kept = Math.Min(count, File1CsvParser.MaxKeptFields);
        // A header starts with STUDY_ID or names at least three fields. A data line that happens to hold a value
        // like "Postcode" must not be taken for a header: its other values would be echoed as column names.
        int namesFound = 0;
        for (int c = 0; c < kept; c++)
        {
            if (IndexOfName(firstLine.Field(c).Trim(), StringComparison.OrdinalIgnoreCase) >= 0)
            {
                namesFound++;
            }
        }

        bool looksLikeHeader = namesFound >= 3
            || (count > 0 && firstLine.Field(0).Trim().Equals(File1Schema.FieldNames[0], StringComparison.OrdinalIgnoreCase));
        if (!looksLikeHeader)
        {
            return new File1Header { Kind = File1HeaderKind.Missing };
        }

        bool exact = count == File1Schema.FieldCount;
        for (int c = 0; c < File1Schema.FieldCount && exact; c++)
        {
            exact = firstLine.Field(c).SequenceEqual(File1Schema.FieldNames[c]);
        }

        if (exact)
        {
            return new File1Header { Kind = File1HeaderKind.Exact };
        }

        var columnOf = new int[File1Schema.FieldCount];
        Array.Fill(columnOf, -1);
        var header = new File1Header { Kind = File1HeaderKind.Invalid, ColumnOf = columnOf, ExpectedFieldCount = count };
        bool caseOnly = count == File1Schema.FieldCount;
        int highestSoFar = -1;
        for (int c = 0; c < kept; c++)
        {
            var raw = firstLine.Field(c);
            var name = raw.Trim();
            int schemaIndex = IndexOfName(name, StringComparison.OrdinalIgnoreCase);
            if (schemaIndex < 0)
            {
                // Header names are not identifiers, but cap what is echoed back anyway.
                header.UnexpectedNames.Add(name.Length switch
                {
                    0 => "(an empty name)",
                    > 60 => new string(name[..60]) + "…",
                    _ => new string(name),
                });
                caseOnly = false;
                continue;
            }

            if (columnOf[schemaIndex] >= 0)
            {
                header.DuplicateNames.Add(File1Schema.FieldNames[schemaIndex]);
                caseOnly = false;
                continue;
            }

            columnOf[schemaIndex] = c;
            if (schemaIndex < highestSoFar)
            {
                // Named out of order relative to the names before it (a missing or extra column alone is not this).
                header.MisorderedNames.Add(File1Schema.FieldNames[schemaIndex]);
                caseOnly = false;
            }

            highestSoFar = Math.Max(highestSoFar, schemaIndex);
            if (!name.SequenceEqual(File1Schema.FieldNames[schemaIndex]))
            {
                header.CaseMismatchedNames.Add(File1Schema.FieldNames[schemaIndex]);
            }

            if (raw.Length != name.Length)
            {
                header.PaddedNames.Add(File1Schema.FieldNames[schemaIndex]);
            }
        }

        for (int s = 0; s < File1Schema.FieldCount; s++)
        {
            if (columnOf[s] < 0)
            {
                header.MissingNames.Add(File1Schema.FieldNames[s]);
                caseOnly = false;
            }
        }

        // Only the letter case or surrounding spaces differ: the header is usable as it stands (warnings, not errors).
        return caseOnly
            ? new File1Header { Kind = File1HeaderKind.Exact, CaseMismatchedNamesInit = header.CaseMismatchedNames, PaddedNamesInit = header.PaddedNames }
            : header;
    }

    private List<string> CaseMismatchedNamesInit
    {
        init => CaseMismatchedNames.AddRange(value);
    }

    private List<string> PaddedNamesInit
    {
        init => PaddedNames.AddRange(value);
    }

    private static int IndexOfName(ReadOnlySpan<char> name, StringComparison comparison)
    {
        for (int i = 0; i < File1Schema.FieldCount; i++)
        {
            if (name.Equals(File1Schema.FieldNames[i], comparison))
            {
                return i;
            }
        }

        return -1;
    }

    private static int[] Positional()
    {
        var map = new int[File1Schema.FieldCount];
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = i;
        }

        return map;
    }
}
