using System.Text;
using System.Text.RegularExpressions;

namespace Linkage.LocalHost.Triggers;

/// <summary>
/// A blob trigger path pattern such as <c>{study}/{name}</c>: literal text and named variables, as in Azure Functions.
/// A variable matches one path segment unless it is the last one, which may span segments.
/// </summary>
public sealed class BlobPathPattern
{
    private readonly Regex _regex;
    private readonly string[] _names;

    public BlobPathPattern(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        Pattern = pattern;
        var names = new List<string>();
        var regex = new StringBuilder("^");
        int i = 0;
        while (i < pattern.Length)
        {
            int open = pattern.IndexOf('{', i);
            if (open < 0)
            {
                regex.Append(Regex.Escape(pattern[i..]));
                break;
            }

            regex.Append(Regex.Escape(pattern[i..open]));
            int close = pattern.IndexOf('}', open);
            if (close < 0)
            {
                throw new ArgumentException($"Blob path pattern '{pattern}' has an unclosed '{{'.", nameof(pattern));
            }

            string name = pattern[(open + 1)..close];
            if (!Regex.IsMatch(name, "^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant))
            {
                throw new ArgumentException($"Blob path pattern '{pattern}' has an invalid variable name '{name}'.", nameof(pattern));
            }

            names.Add(name);
            bool last = close == pattern.Length - 1;
            regex.Append(last ? "(.+)" : "([^/]+)");
            i = close + 1;
        }

        regex.Append('$');
        _regex = new Regex(regex.ToString(), RegexOptions.CultureInvariant);
        _names = [.. names];
        int firstVar = pattern.IndexOf('{');
        Prefix = firstVar < 0 ? pattern : pattern[..firstVar];
    }

    public string Pattern { get; }

    /// <summary>The literal text before the first variable: the listing prefix.</summary>
    public string Prefix { get; }

    public bool TryMatch(string blobName, out IReadOnlyDictionary<string, string> values)
    {
        var m = _regex.Match(blobName);
        if (!m.Success)
        {
            values = new Dictionary<string, string>();
            return false;
        }

        var dict = new Dictionary<string, string>(_names.Length, StringComparer.Ordinal);
        for (int k = 0; k < _names.Length; k++)
        {
            dict[_names[k]] = m.Groups[k + 1].Value;
        }

        values = dict;
        return true;
    }
}
