namespace Linkage.File2;

/// <summary>Splits one CSV line (no line break) into its fields as written: a quoted field keeps its quotes, so equal text means an equal value.</summary>
internal static class CsvLineFields
{
    public static void Split(string line, List<string> fields)
    {
        fields.Clear();
        int start = 0;
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '"')
            {
                quoted = !quoted; // a doubled quote toggles twice
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(line[start..i]);
                start = i + 1;
            }
        }

        fields.Add(line[start..]);
    }
}
