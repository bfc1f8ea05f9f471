using System.Security.Cryptography;
using System.Text;
using Linkage.Keys;
using Sylvan.Data.Csv;

namespace Linkage.Synth;

/// <summary>A person NHS England sends File 2 records for: their TTP-encrypted id and what HES would know of them.</summary>
/// <param name="Sex">1 male, 2 female, 9 not known.</param>
/// <param name="BirthYear">0 when not known.</param>
public readonly record struct File2Person(string CohortKey, char Sex, int BirthYear);

/// <summary>The people File 2 datasets are about. Enumerated twice (sizing, then writing), always in the same order.</summary>
public interface IFile2Cohort
{
    /// <summary>Where the ids come from, for the manifest (no paths or keys).</summary>
    string Description { get; }

    IEnumerable<File2Person> People(CancellationToken ct);
}

/// <summary>
/// Stand-in until File 1 intake writes the NHS Output: ids are <see cref="StudyIdTokenizer"/> tokens of the participants
/// who would be in the last quarter's NHS Output, under a key derived from the seed. The key is public by construction
/// (<see cref="KeyDerivationPrefix"/> + seed) and marked with key version <see cref="KeyVersion"/>, so it can never
/// be mistaken for a real TTP key.
/// </summary>
public sealed class StandInTokenCohort(SynthCohort cohort) : IFile2Cohort
{
    public const string KeyDerivationPrefix = "linkage-synth-standin-ttp-key|";
    public const string KeyVersion = "synth-standin";

    public string Description =>
        $"stand-in TTP key: SHA-256(\"{KeyDerivationPrefix}\" + seed), key version {KeyVersion}";

    /// <summary>The stand-in TTP person-id key for <paramref name="seed"/> (seed written in decimal).</summary>
    public static byte[] StandInKey(long seed) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(KeyDerivationPrefix + seed.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public IEnumerable<File2Person> People(CancellationToken ct)
    {
        byte[] key = StandInKey(cohort.Options.Seed);
        using var tokenizer = new StudyIdTokenizer(key, KeyVersion);
        CryptographicOperations.ZeroMemory(key);
        int participants = cohort.Options.ParticipantsInQuarter(cohort.Options.Quarters);
        for (int study = 0; study < cohort.StudyCount; study++)
        {
            string code = cohort.Options.Studies[study];
            for (int i = 0; i < participants; i++)
            {
                if ((i & 1023) == 0)
                {
                    ct.ThrowIfCancellationRequested();
                }

                var participant = cohort.Participant(study, i);
                if (!cohort.IsInNhsOutput(participant))
                {
                    continue;
                }

                var person = participant.Person;
                char sex = person.Gender is '1' or '2' ? person.Gender : '9';
                yield return new File2Person(tokenizer.Tokenize(code, participant.StudyId), sex, person.DateOfBirth?.Year ?? 0);
            }
        }
    }
}

/// <summary>
/// Ids taken from a real NHS Output CSV (written by File 1 intake): one File 2 person per distinct id in column
/// <see cref="PersonIdColumn"/> (the NHS Output has a row per current and historical identifier set, so a person's id
/// repeats). Sex and birth year are not read (the NHS Output's other columns are identifiers).
/// </summary>
public sealed class NhsOutputCohort(string path) : IFile2Cohort
{
    public const string PersonIdColumn = "ttp_person_id";

    public string Description => $"NHS Output file {Path.GetFileName(path)}, column {PersonIdColumn}";

    public IEnumerable<File2Person> People(CancellationToken ct)
    {
        using var reader = CsvDataReader.Create(path, CsvReaderOptions.Strict());
        int column = -1;
        for (int i = 0; i < reader.FieldCount; i++)
        {
            if (string.Equals(reader.GetName(i), PersonIdColumn, StringComparison.Ordinal))
            {
                column = i;
            }
        }

        if (column < 0)
        {
            throw new SynthInputException($"The NHS Output file has no {PersonIdColumn} column.");
        }

        long line = 1;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            line++;
            if ((line & 1023) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            string id = reader.GetString(column);
            if (id.Length == 0)
            {
                throw new SynthInputException($"The NHS Output file has an empty {PersonIdColumn} on line {line}.");
            }

            if (seen.Add(id))
            {
                yield return new File2Person(id, '9', 0);
            }
        }
    }
}

/// <summary>An input file given to synth (such as an NHS Output) cannot be used.</summary>
public sealed class SynthInputException(string message) : Exception(message);
