using System.Runtime.InteropServices;
using System.Text;
using Linkage.Keys;
using Linkage.Permissions;
using Linkage.Provisioning;
using Sylvan.Data.Csv;

namespace Linkage.File2;

/// <summary>
/// One <see cref="File2Pipeline"/> run, around its <see cref="ColumnPlan"/>: read → check → filter → compose and
/// encrypt (workers, per batch: <see cref="RowFilter"/>, <see cref="RowComposer"/>) → stage in input order (here) → the
/// identifier and reject-share checks → dedup → write out. Nothing is written to the output before the last check.
/// </summary>
internal sealed class File2Run
{
    private const int MaxRecordChars = 1 << 20;

    private readonly PermissionSnapshotSet _permissions;
    private readonly BlockTokenCipher _idCipher;
    private readonly BlockTokenCipher _geoCipher;
    private readonly File2PipelineOptions _options;
    private readonly ColumnPlan _plan;
    private readonly RunTally _tally;
    private readonly RiskTally _risk;
    private readonly RiskKeys _riskKeys;
    private readonly IdentifierColumnCheck _identifiers;
    private readonly int _groupings;
    private readonly int _batchRows;
    private readonly Lane[] _lanes;

    // Distinct people among the staged rows: one bit per snapshot participant (UK LLC), or the encrypted 16-byte keys (SDE).
    private readonly ulong[]? _people;
    private readonly HashSet<TokenBytes>? _peopleKeys;

    // Reference data only: the place-based disclosure check of the staged output rows (participant runs never pay for it).
    private readonly PlaceBasedDisclosureCheck? _places;
    private readonly int _placeKeyField;
    private long _placeRows;
    private RowFilter _filter = null!;
    private RowComposer _composer = null!;
    private RowBatchReader? _rowReader;
    private double _readSeconds;
    private double _dedupSeconds;
    private double _writeSeconds;

    // The consumer's scratch, for risk keys seen for the first time.
    private char[] _keyScratch = new char[256];
    private readonly char[] _dateScratch = new char[16];

    public File2Run(DatasetSpec spec, PermissionSnapshotSet permissions, BlockTokenCipher idCipher, BlockTokenCipher geoCipher, File2PipelineOptions options)
    {
        _permissions = permissions;
        _idCipher = idCipher;
        _geoCipher = geoCipher;
        _options = options;
        _plan = new ColumnPlan(spec);
        _tally = new RunTally(_plan, options);
        _riskKeys = new RiskKeys(_plan);
        _identifiers = new IdentifierColumnCheck(_plan, options);
        _groupings = _plan.Groupings;
        _risk = new RiskTally(_groupings, options.RiskKeysPerGrouping(_groupings), spec.Marginals.Count);
        _batchRows = Math.Max(16, options.BatchRows);
        _lanes = Enumerable.Range(0, Math.Max(1, options.Workers)).Select(_ => new Lane(_plan.Columns.Length)).ToArray();
        if (_plan.HasPersonKey && _plan.CheckPermissions)
        {
            _people = new ulong[(permissions.Count + 63) / 64];
        }
        else if (_plan.HasPersonKey)
        {
            _peopleKeys = [];
        }

        if (spec.Kind == DatasetKind.Reference)
        {
            var outputs = _plan.OutputColumns.Select(c => _plan.Columns[c]).ToList();
            _placeKeyField = outputs.FindIndex(c => c.Name == spec.KeyColumn);
            _places = new PlaceBasedDisclosureCheck(outputs.Where((_, i) => i != _placeKeyField).Select(c => c.OutputName).ToList(), options.PlaceBasedThreshold);
        }
    }

    public async Task<File2Result> ExecuteAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        string tempDirectory = _options.TempDirectory ?? Path.GetTempPath();
        Directory.CreateDirectory(tempDirectory);
        using var store = new DedupStore(tempDirectory, _options.IndexEntryCap, _options.StageMemoryBytes);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        using var text = new StreamReader(input, strictUtf8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        try
        {
            var reader = await CsvDataReader.CreateAsync(text, CsvReaderOptions.Strict(1 << 16, MaxRecordChars), cancellationToken);
            var headerProblems = _plan.MapHeader(reader);
            if (headerProblems.Count > 0)
            {
                return Fail(File2Outcome.HeaderMismatch, headerProblems, store);
            }

            // The workers' parts read the input positions the header gave the plan.
            var check = new ValueCheck(_plan);
            _filter = new RowFilter(_plan, _plan.Spec, _permissions, check, _riskKeys);
            _composer = new RowComposer(_plan, _idCipher, _geoCipher);
            int inputFields = _plan.InputFieldCount;
            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var rows = new RowBatchReader(reader, () => new RowBatch(_batchRows, inputFields, _plan.GeneralisedColumns.Length, _groupings, _plan.CodeColumns.Length), ProcessBatch,
                workers: _lanes.Length, heldBatches: (_options.IdentifierSampleRows / _batchRows) + 1);
            _rowReader = rows;
            var reading = rows.RunAsync(stopReading.Token);
            try
            {
                // Sample first: nothing is staged until the kept columns are known not to hold identifiers.
                var sample = new List<RowBatch>();
                int sampled = 0;
                while (sampled < _options.IdentifierSampleRows && await rows.Batches.WaitToReadAsync(cancellationToken) && rows.Batches.TryRead(out var first))
                {
                    sample.Add(first);
                    sampled += first.Count;
                }

                ThrowIfUnreadable(rows);
                var sampleProblems = _identifiers.Sample(sample, _options.IdentifierSampleRows);
                if (sampleProblems.Count > 0)
                {
                    await stopReading.CancelAsync();
                    await reading;
                    var sampledOnly = new File2Counts(Math.Min(sampled, _options.IdentifierSampleRows), 0, 0, Enum.GetValues<DropReason>().ToDictionary(r => r, _ => 0L), 0);
                    return new File2Result(File2Outcome.IdentifierColumn, sampleProblems, sampledOnly, [], false, new Dictionary<string, long>(), null, null, Statistics(store));
                }

                foreach (var batch in sample)
                {
                    StageBatch(batch, store);
                    rows.Return(batch);
                }

                await foreach (var batch in rows.Batches.ReadAllAsync(cancellationToken))
                {
                    StageBatch(batch, store);
                    rows.Return(batch);
                }

                ThrowIfUnreadable(rows);
            }
            finally
            {
                await stopReading.CancelAsync();
                await reading;
            }
        }
        catch (Exception e) when (AsUnreadable(e) is { } unreadable)
        {
            // Header = line 1; the failing record follows the last one parsed (decoding runs a buffer ahead, so a bad
            // byte is at or shortly after the line named).
            long line = (_rowReader?.RowsRead ?? -1) + 2;
            return Fail(File2Outcome.Unreadable, [$"{unreadable.Message}, near line {line}. Nothing was written; fix the file and deliver it again."], store);
        }

        _readSeconds = clock.Elapsed.TotalSeconds;
        if (_tally.RowsRejected > _options.MaxRejectShare * _tally.RowsIn)
        {
            return Fail(File2Outcome.TooManyBadRows, [$"{_tally.RowsRejected} of {_tally.RowsIn} rows are invalid, more than the allowed {_options.MaxRejectShare:P2}. Nothing was written; see the row-level report."], store);
        }

        var shapeProblems = _identifiers.WholeFile(_tally);
        if (shapeProblems.Count > 0)
        {
            return Fail(File2Outcome.IdentifierColumn, shapeProblems, store);
        }

        var places = _places?.Report();
        if (places is { Passes: false })
        {
            return Fail(File2Outcome.SinglesOutArea, [$"Reference dataset '{_plan.Spec.DatasetId}': {places.Describe("area")} Nothing was written."], store) with { PlaceBased = places };
        }

        clock.Restart();
        _tally.SetDuplicates(store.FindDuplicates(cancellationToken));
        _dedupSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        long written = await WriteOutputAsync(store, output, cancellationToken);
        _writeSeconds = clock.Elapsed.TotalSeconds;
        var counts = _tally.Counts(written);
        if (!counts.Reconciles || written != store.Rows - store.DuplicateRows)
        {
            throw new CountsDoNotReconcileException($"Rows in ({counts.RowsIn}) ≠ written ({counts.RowsWritten}) + rejected ({counts.RowsRejected}) + dropped ({counts.RowsDropped}); the output must not be committed.");
        }

        var statistics = new CuratedStatistics(ParticipantCount(), CurationReport.Coverage(_tally), CurationReport.UnexpectedCodes(_plan, _tally));
        var metadata = CurationReport.Metadata(_plan, written, _idCipher.KeyVersion, _geoCipher.KeyVersion, _permissions, statistics);
        var risk = CurationReport.RiskReport(_plan, _risk, _tally, _options.SmallCellThreshold);
        return new File2Result(File2Outcome.Curated, [], counts, _tally.Rejects, _tally.RejectsTruncated, _tally.RejectCounts, metadata, risk, Statistics(store))
        {
            ParticipantCount = statistics.ParticipantCount,
            TemporalCoverage = statistics.TemporalCoverage,
            UnexpectedCodes = statistics.UnexpectedCodes,
            PlaceBased = places,
        };
    }

    /// <summary>
    /// Distinct people among the rows written. Counted at staging: a duplicate row repeats its kept copy's key, so
    /// deduplication removes no person (exact). Null for reference data.
    /// </summary>
    private long? ParticipantCount()
    {
        if (_people is { } bits)
        {
            long n = 0;
            foreach (ulong word in bits)
            {
                n += System.Numerics.BitOperations.PopCount(word);
            }

            return n;
        }

        return _peopleKeys?.Count;
    }

    /// <summary>Rethrows a parse failure from the reader thread on this one.</summary>
    private static void ThrowIfUnreadable(RowBatchReader rows)
    {
        if (rows.Failure is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>A parse failure (bad UTF-8, malformed CSV) as the typed exception, or null for any other failure.</summary>
    private static UnreadableFileException? AsUnreadable(Exception e) => e switch
    {
        UnreadableFileException u => u,
        DecoderFallbackException => new UnreadableFileException("The file is not valid UTF-8"),
        CsvMissingHeadersException => new UnreadableFileException("The file is empty: it has no header row"),
        CsvRecordTooLargeException => new UnreadableFileException($"A record is larger than {MaxRecordChars} characters (often an unterminated quote)"),
        CsvFormatException => new UnreadableFileException("The file is not well-formed CSV (quotes or line breaks)"),
        _ => null,
    };

    /// <summary>Worker thread: filters a batch, then composes and encrypts its kept rows, all on this core.</summary>
    private void ProcessBatch(RowBatch batch, int worker)
    {
        var lane = _lanes[worker];
        lane.Counts = batch.Counts ??= new BatchCounts(_plan.Columns.Length);
        lane.Rows = batch;
        _filter.FilterBatch(lane, batch);
        _composer.ComposeBatch(lane, batch, batch.Output ??= new OutputBatch(batch.Capacity, _plan.GeoColumns.Length, _groupings));
    }

    /// <summary>Consumer thread, in input order: adds the batch's counts, assigns its rows' risk ids, stages its rows.</summary>
    private void StageBatch(RowBatch batch, DedupStore store)
    {
        if (batch.Counts is { } counts)
        {
            _tally.Add(counts);
        }

        if (batch.Output is not { } b)
        {
            return;
        }

        byte[] records = b.Bytes;
        long first = store.Rows;
        CountPeople(batch, b);
        if (_places is not null)
        {
            AddPlaces(b);
        }
        for (int r = 0; r < b.Count; r++)
        {
            int row = b.SourceRow[r];
            var ids = MemoryMarshal.Cast<byte, int>(records.AsSpan(b.CompareEnd[r], _groupings * 4));
            for (int g = 0; g < _groupings; g++)
            {
                int id = _risk.Find(g, batch.RiskHashes[(row * _groupings) + g]);
                ids[g] = id != RiskTally.Absent ? id : _risk.Intern(g, _riskKeys.RiskKey(batch, row, g, b.Blanked[r], ref _keyScratch, _dateScratch));
            }

            if (b.Blanked[r])
            {
                _tally.MarkBlanked(first + r);
            }
        }

        // The worker laid the rows out as staged records: one copy stages the whole batch.
        store.AppendRecords(records.AsSpan(0, b.Used), b.RecordStart.AsSpan(0, b.Count), b.Hash.AsSpan(0, b.Count));
    }

    /// <summary>Reference data: gives each staged output row's key and non-key fields (as written) to the place-based check.</summary>
    private void AddPlaces(OutputBatch b)
    {
        var fields = new List<string>();
        var values = new List<string>();
        for (int r = 0; r < b.Count; r++)
        {
            CsvLineFields.Split(Encoding.UTF8.GetString(b.Bytes, b.LineStart[r], b.LineEnd[r] - b.LineStart[r]), fields);
            values.Clear();
            for (int f = 0; f < fields.Count; f++)
            {
                if (f != _placeKeyField)
                {
                    values.Add(fields[f]);
                }
            }

            // No key column in the output: each row stands for its own area (the strictest reading).
            _places!.Add(_placeKeyField >= 0 ? fields[_placeKeyField] : (_placeRows++).ToString(System.Globalization.CultureInfo.InvariantCulture), values);
        }
    }

    /// <summary>Marks the people of a batch's staged rows (consumer thread, so the set has one writer).</summary>
    private void CountPeople(RowBatch batch, OutputBatch b)
    {
        if (_people is { } bits)
        {
            int[] participant = batch.Participant;
            int[] source = b.SourceRow;
            for (int r = 0; r < b.Count; r++)
            {
                int i = participant[source[r]];
                bits[i >> 6] |= 1UL << (i & 63);
            }
        }
        else if (_peopleKeys is { } keys)
        {
            // The batch's encrypted ids (the composer encrypted them in place).
            for (int r = 0; r < b.Count; r++)
            {
                keys.Add(TokenBytes.FromBytes(b.IdBlocks.AsSpan(r * 16, 16)));
            }
        }
    }

    private File2Result Fail(File2Outcome outcome, IReadOnlyList<string> problems, DedupStore store) =>
        new(outcome, problems, _tally.Counts(0), _tally.Rejects, _tally.RejectsTruncated, _tally.RejectCounts, null, null, Statistics(store));

    private File2RunStatistics Statistics(DedupStore store) =>
        new(store.Spilled, store.StageSpilled, store.SpillFiles, _options.IndexEntryCap, _readSeconds, _dedupSeconds, _writeSeconds, _tally.BlankLines);

    private async Task<long> WriteOutputAsync(DedupStore store, Stream output, CancellationToken cancellationToken)
    {
        byte[] header = Encoding.UTF8.GetBytes(string.Join(',', _plan.OutputColumns.Select(c => _plan.Columns[c].OutputName)) + "\n");
        long written = await store.ReplayAsync(output, header, _groupings, (ordinal, ids) =>
        {
            _tally.CountIfBlanked(ordinal);
            for (int g = 0; g < ids.Length; g++)
            {
                _risk.Add(g, ids[g]);
            }
        }, cancellationToken);
        await output.FlushAsync(cancellationToken);
        return written;
    }
}
