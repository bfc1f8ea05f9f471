using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Linkage.Keys;
using Linkage.Permissions;
using Sylvan.Data.Csv;

namespace Linkage.File2;

/// <summary>The state of one <see cref="File2Pipeline"/> run: read → check → filter → transform → stage, then dedup and write.</summary>
internal sealed class File2Run
{
    private const int DigestBytes = 16;
    private const int MaxRecordChars = 1 << 20;

    private readonly DatasetSpec _spec;
    private readonly PermissionSnapshotSet _permissions;
    private readonly BlockTokenCipher _idCipher;
    private readonly BlockTokenCipher _geoCipher;
    private readonly File2PipelineOptions _options;
    private readonly ColumnSpec[] _columns;
    private readonly int _keyColumn;
    private readonly int[] _outputColumns;
    private readonly int[] _geoColumns;
    private readonly int[] _geoIndex;
    private readonly int[] _generalisedColumns;
    private readonly int[] _generalisedIndex;
    private readonly bool _hasHidden;
    private readonly bool[] _checkShape;
    private readonly bool[] _countShape;
    private readonly CodeList?[] _codeLists;
    private readonly int[] _codeColumns;
    private readonly int[] _codeIndex;
    private readonly OutputKind[] _outputKind;
    private readonly bool _alwaysHidden;

    // Counts.
    private readonly long[] _dropped = new long[Enum.GetValues<DropReason>().Length];
    private readonly long[] _nhsShaped;
    private readonly long[] _postcodeShaped;
    private readonly long[] _nonEmpty;
    private readonly List<RejectedRow> _rejects = [];
    private readonly Dictionary<string, long> _rejectCounts = new(StringComparer.Ordinal);
    private readonly RiskTally _risk;
    private readonly int _groupings;
    private readonly int[][] _riskColumns;
    private readonly Generalisation[][] _riskGranularity;
    private long _rowsIn;
    private long _blankLines;
    private long _rowsRejected;
    private long _geoBlanked;

    // One bit per staged row: its geography was blanked. Counted on the replay, so duplicates are not counted.
    private ulong[] _blankedRows = new ulong[1024];
    private bool _rejectsTruncated;
    private double _readSeconds;
    private double _dedupSeconds;
    private double _writeSeconds;

    // Input.
    private int[] _ordinal = [];
    private int _inputFieldCount;
    private RowBatchReader? _rowReader;

    // Workers: each filters and composes whole batches with its own scratch; the consumer stages them in input order.
    private readonly int _batchRows;
    private readonly Lane[] _lanes;

    // The consumer's scratch, for risk keys seen for the first time.
    private char[] _keyScratch = new char[256];
    private readonly char[] _dateScratch = new char[16];

    public File2Run(DatasetSpec spec, PermissionSnapshotSet permissions, BlockTokenCipher idCipher, BlockTokenCipher geoCipher, File2PipelineOptions options)
    {
        _spec = spec;
        _permissions = permissions;
        _idCipher = idCipher;
        _geoCipher = geoCipher;
        _options = options;
        _columns = [.. spec.Columns];
        int n = _columns.Length;
        _keyColumn = Array.FindIndex(_columns, c => c.Rule == ColumnRule.EncryptId);
        _outputColumns = Enumerable.Range(0, n).Where(i => _columns[i].IsOutput).ToArray();
        _geoColumns = Enumerable.Range(0, n).Where(i => _columns[i].Rule == ColumnRule.EncryptGeography).ToArray();
        _geoIndex = Enumerable.Range(0, n).Select(i => Array.IndexOf(_geoColumns, i)).ToArray();
        _generalisedColumns = Enumerable.Range(0, n).Where(i => _columns[i].Rule == ColumnRule.Generalise).ToArray();
        _generalisedIndex = Enumerable.Range(0, n).Select(i => Array.IndexOf(_generalisedColumns, i)).ToArray();
        _hasHidden = _columns.Any(c => c.Rule is ColumnRule.Exclude or ColumnRule.Generalise or ColumnRule.EncryptGeography);
        _checkShape = _columns.Select(c => c.Rule is ColumnRule.Keep or ColumnRule.Generalise).ToArray();
        _countShape = _columns.Select((c, i) => _checkShape[i] && CanLookLikeIdentifier(c)).ToArray();
        _codeLists = _columns.Select(c => c.Type == ColumnType.Code ? new CodeList(c.Labels.Keys) : null).ToArray();
        _codeColumns = Enumerable.Range(0, n).Where(i => _columns[i].Type == ColumnType.Code).ToArray();
        _codeIndex = Enumerable.Range(0, n).Select(i => Array.IndexOf(_codeColumns, i)).ToArray();
        _outputKind = _columns.Select(KindOf).ToArray();
        _alwaysHidden = _columns.Any(c => c.Rule is ColumnRule.Exclude or ColumnRule.Generalise);
        _nhsShaped = new long[n];
        _postcodeShaped = new long[n];
        _nonEmpty = new long[n];
        _groupings = spec.Marginals.Count + (spec.QuasiIdentifiers.Count > 0 ? 1 : 0);
        // Flat copies of the risk groupings (marginals, then the quasi-identifier set): the hot path avoids interface calls.
        _riskColumns = spec.Marginals.Select(m => m.Select(d => d.ColumnIndex).ToArray())
            .Concat(spec.QuasiIdentifiers.Count > 0 ? [spec.QuasiIdentifiers.ToArray()] : []).ToArray();
        _riskGranularity = spec.Marginals.Select(m => m.Select(d => d.Granularity).ToArray())
            .Concat(spec.QuasiIdentifiers.Count > 0 ? [new Generalisation[spec.QuasiIdentifiers.Count]] : []).ToArray();
        _risk = new RiskTally(_groupings, options.RiskKeysPerGrouping(_groupings), spec.Marginals.Count);
        _batchRows = Math.Max(16, options.BatchRows);
        _lanes = Enumerable.Range(0, Math.Max(1, options.Workers)).Select(_ => new Lane(n)).ToArray();
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
            var headerProblems = MapHeader(reader);
            if (headerProblems.Count > 0)
            {
                return Fail(File2Outcome.HeaderMismatch, headerProblems, store);
            }

            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var rows = new RowBatchReader(reader, () => new RowBatch(_batchRows, _inputFieldCount, _generalisedColumns.Length, _groupings, _codeColumns.Length), ProcessBatch,
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
                var sampleProblems = CheckSampleForIdentifiers(sample, _options.IdentifierSampleRows);
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
        if (_rowsRejected > _options.MaxRejectShare * _rowsIn)
        {
            return Fail(File2Outcome.TooManyBadRows, [$"{_rowsRejected} of {_rowsIn} rows are invalid, more than the allowed {_options.MaxRejectShare:P2}. Nothing was written; see the row-level report."], store);
        }

        var shapeProblems = FullFileIdentifierProblems();
        if (shapeProblems.Count > 0)
        {
            return Fail(File2Outcome.IdentifierColumn, shapeProblems, store);
        }

        clock.Restart();
        _dropped[(int)DropReason.Duplicate] = store.FindDuplicates(cancellationToken);
        _dedupSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        long written = await WriteOutputAsync(store, output, cancellationToken);
        _writeSeconds = clock.Elapsed.TotalSeconds;
        var counts = Counts(written);
        if (!counts.Reconciles || written != store.Rows - store.DuplicateRows)
        {
            throw new CountsDoNotReconcileException($"Rows in ({counts.RowsIn}) ≠ written ({counts.RowsWritten}) + rejected ({counts.RowsRejected}) + dropped ({counts.RowsDropped}); the output must not be committed.");
        }

        return new File2Result(
            File2Outcome.Curated, [], counts, _rejects, _rejectsTruncated, _rejectCounts, Metadata(written), RiskReport(), Statistics(store));
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
        lane.Counts = batch.Counts ??= new BatchCounts(_columns.Length);
        lane.Rows = batch;
        FilterBatch(lane, batch);
        ComposeBatch(lane, batch, batch.Output ??= new OutputBatch(batch.Capacity, _geoColumns.Length, _groupings));
    }

    /// <summary>Checks and filters every row of a batch, recording the verdicts in it.</summary>
    private void FilterBatch(Lane lane, RowBatch batch)
    {
        int keyOrdinal = _ordinal[_keyColumn];
        for (int r = 0; r < batch.Count; r++)
        {
            // Only rows with the header's field count get as far as their key (FilterRow rejects the others first).
            batch.KeyParsed[r] = batch.FieldCount(r) == _inputFieldCount && TokenBytes.TryParse(batch.Field(r, keyOrdinal), out batch.Keys[r]);
            if (!batch.KeyParsed[r])
            {
                batch.Keys[r] = default;
            }
        }

        _permissions.GetFlags(batch.Keys.AsSpan(0, batch.Count), batch.Flags);
        for (int r = 0; r < batch.Count; r++)
        {
            lane.Row = r;
            var parsed = batch.Keys[r];
            batch.Kept[r] = FilterRow(lane, batch.KeyParsed[r], parsed, batch.Flags[r], out batch.Keys[r], out batch.BlankGeography[r]);
        }
    }

    /// <summary>Composes the kept rows of a filtered batch, encrypts their tokens and geographies, hashes them for dedup.</summary>
    private void ComposeBatch(Lane lane, RowBatch batch, OutputBatch output)
    {
        for (int r = 0; r < batch.Count; r++)
        {
            if (batch.Kept[r])
            {
                lane.Row = r;
                output.SourceRow[output.Count] = r;
                StageInBatch(lane, output, batch.Keys[r], batch.BlankGeography[r]);
            }
        }

        EncryptBatch(output);
        for (int r = 0; r < output.Count; r++)
        {
            int start = output.LineStart[r];
            output.Hash[r] = RowHasher.Hash64(output.Bytes.AsSpan(start, output.CompareEnd[r] - start));
        }
    }

    /// <summary>Consumer thread, in input order: adds the batch's counts, assigns its rows' risk ids, stages its rows.</summary>
    private void StageBatch(RowBatch batch, DedupStore store)
    {
        if (batch.Counts is { } counts)
        {
            AddCounts(counts);
        }

        if (batch.Output is not { } b)
        {
            return;
        }

        byte[] records = b.Bytes;
        long first = store.Rows;
        for (int r = 0; r < b.Count; r++)
        {
            int row = b.SourceRow[r];
            var ids = MemoryMarshal.Cast<byte, int>(records.AsSpan(b.CompareEnd[r], _groupings * 4));
            for (int g = 0; g < _groupings; g++)
            {
                int id = _risk.Find(g, batch.RiskHashes[(row * _groupings) + g]);
                ids[g] = id != RiskTally.Absent ? id : _risk.Intern(g, RiskKey(batch, row, g, b.Blanked[r], ref _keyScratch, _dateScratch));
            }

            if (b.Blanked[r])
            {
                long ordinal = first + r;
                while ((ordinal >> 6) >= _blankedRows.Length)
                {
                    Array.Resize(ref _blankedRows, _blankedRows.Length * 2);
                }

                _blankedRows[ordinal >> 6] |= 1UL << (int)(ordinal & 63);
            }
        }

        // The worker laid the rows out as staged records: one copy stages the whole batch.
        store.AppendRecords(records.AsSpan(0, b.Used), b.RecordStart.AsSpan(0, b.Count), b.Hash.AsSpan(0, b.Count));
    }

    private void AddCounts(BatchCounts counts)
    {
        _blankLines += counts.BlankLines;
        _rowsIn += counts.RowsIn;
        _rowsRejected += counts.RowsRejected;
        for (int i = 0; i < _dropped.Length; i++)
        {
            _dropped[i] += counts.Dropped[i];
        }

        for (int c = 0; c < _columns.Length; c++)
        {
            _nonEmpty[c] += counts.NonEmpty[c];
            _nhsShaped[c] += counts.NhsShaped[c];
            _postcodeShaped[c] += counts.PostcodeShaped[c];
        }

        foreach (var reject in counts.Rejects)
        {
            string key = $"{reject.Column}: {reject.Reason}";
            _rejectCounts[key] = _rejectCounts.GetValueOrDefault(key) + 1;
            if (_rejects.Count < _options.MaxRejectDetails)
            {
                _rejects.Add(reject);
            }
            else
            {
                _rejectsTruncated = true;
            }
        }
    }

    private File2Result Fail(File2Outcome outcome, IReadOnlyList<string> problems, DedupStore store) =>
        new(outcome, problems, Counts(0), _rejects, _rejectsTruncated, _rejectCounts, null, null, Statistics(store));

    private File2RunStatistics Statistics(DedupStore store) =>
        new(store.Spilled, store.StageSpilled, store.SpillFiles, _options.IndexEntryCap, _readSeconds, _dedupSeconds, _writeSeconds, _blankLines);

    private File2Counts Counts(long written) =>
        new(_rowsIn, written, _rowsRejected, Enum.GetValues<DropReason>().ToDictionary(r => r, r => _dropped[(int)r]), _geoBlanked);

    private List<string> MapHeader(CsvDataReader reader)
    {
        var problems = new List<string>();
        _inputFieldCount = reader.FieldCount;
        var names = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        foreach (var dup in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Column '{dup.Key}' appears {dup.Count()} times in the header.");
        }

        _ordinal = new int[_columns.Length];

        for (int i = 0; i < _columns.Length; i++)
        {
            _ordinal[i] = names.IndexOf(_columns[i].Name);
            if (_ordinal[i] < 0)
            {
                string? near = names.FirstOrDefault(n => string.Equals(n.Trim(), _columns[i].Name, StringComparison.OrdinalIgnoreCase));
                problems.Add(near is null
                    ? $"Column '{_columns[i].Name}' required by dataset spec '{_spec.DatasetId}' is missing from the header."
                    : $"Column '{_columns[i].Name}' is missing; the header has '{near}' (names must match exactly).");
            }
        }

        foreach (var extra in names.Where(n => !_columns.Any(c => c.Name == n)).Distinct())
        {
            problems.Add($"Column '{extra}' is not in dataset spec '{_spec.DatasetId}'; add it to the spec (with a rule, e.g. exclude) or remove it from the file.");
        }

        return problems;
    }

    private List<string> CheckSampleForIdentifiers(List<RowBatch> sample, int maxRows)
    {
        var problems = new List<string>();
        int rows = Math.Min(maxRows, sample.Sum(b => b.Count));
        for (int c = 0; c < _columns.Length; c++)
        {
            if (!_checkShape[c])
            {
                continue;
            }

            long nonEmpty = 0, nhs = 0, postcode = 0;
            int seen = 0;
            foreach (var batch in sample)
            {
                for (int r = 0; r < batch.Count && seen < rows; r++, seen++)
                {
                    if (batch.FieldCount(r) != _inputFieldCount)
                    {
                        continue;
                    }

                    ReadOnlySpan<char> value = batch.Field(r, _ordinal[c]);
                    if (value.IsEmpty)
                    {
                        continue;
                    }

                    nonEmpty++;
                    nhs += IdentifierShape.LooksLikeNhsNumber(value) ? 1 : 0;
                    postcode += IdentifierShape.LooksLikePostcode(value) ? 1 : 0;
                }
            }

            AddShapeProblem(problems, c, nonEmpty, nhs, postcode, $"the first {rows} rows");
        }

        return problems;
    }

    private List<string> FullFileIdentifierProblems()
    {
        var problems = new List<string>();
        for (int c = 0; c < _columns.Length; c++)
        {
            if (_checkShape[c])
            {
                AddShapeProblem(problems, c, _nonEmpty[c], _nhsShaped[c], _postcodeShaped[c], "the whole file");
            }
        }

        return problems;
    }

    private void AddShapeProblem(List<string> problems, int c, long nonEmpty, long nhs, long postcode, string where)
    {
        if (nonEmpty == 0)
        {
            return;
        }

        double threshold = Math.Max(1, _options.IdentifierShare * nonEmpty);
        if (nhs >= threshold || postcode >= threshold)
        {
            string shape = nhs >= postcode ? "NHS numbers (10 digits passing the Modulus 11 check)" : "UK postcodes";
            problems.Add($"Column '{_columns[c].Name}' is kept in the clear, but {Math.Max(nhs, postcode)} of {nonEmpty} non-empty values in {where} look like {shape}. " +
                         "Nothing was written. Check the delivery; if the column really is an identifier, set its rule to exclude (or encrypt-geography for areas).");
        }
    }

    /// <summary>Checks and filters the current row of the lane's batch; counts why it is left out, or computes what composing it needs.</summary>
    private bool FilterRow(Lane lane, bool keyParsed, TokenBytes parsedKey, int flags, out TokenBytes key, out bool blankGeography)
    {
        key = default;
        blankGeography = false;
        var counts = lane.Counts;
        var rows = lane.Rows;
        int row = lane.Row;
        long line = rows.FirstRecord + row + 2;
        int fieldCount = rows.FieldCount(row);
        if (fieldCount == 1 && _inputFieldCount > 1 && lane.Field(0).IsEmpty)
        {
            // A blank line (an export's trailing newline, say) holds no data: it is not a row, so it is neither kept
            // nor rejected, and a small file is not refused for it. It is counted in the run statistics.
            counts.BlankLines++;
            return false;
        }

        counts.RowsIn++;
        if (fieldCount != _inputFieldCount)
        {
            RejectFieldCount(counts, line, fieldCount);
            return false;
        }

        bool bad = false;
        for (int c = 0; c < _columns.Length; c++)
        {
            var failure = Check(lane, c, lane.Field(_ordinal[c]));
            if (failure != CheckFailure.None)
            {
                counts.Rejects.Add(new RejectedRow(line, _columns[c].Name, Describe(failure, _columns[c])));
                bad = true;
            }
        }

        key = parsedKey;
        if (!keyParsed)
        {
            if (!bad)
            {
                counts.Rejects.Add(new RejectedRow(line, _columns[_keyColumn].Name, "is not a 22-character TTP token"));
            }

            bad = true;
        }

        if (bad)
        {
            counts.RowsRejected++;
            return false;
        }

        if (!Permitted(lane, flags, out blankGeography))
        {
            return false;
        }

        for (int c = 0; c < _columns.Length; c++)
        {
            if (_countShape[c])
            {
                CountShape(counts, c, lane.Field(_ordinal[c]));
            }
        }

        for (int j = 0; j < _generalisedColumns.Length; j++)
        {
            int c = _generalisedColumns[j];
            rows.SetGeneralised(row, j, lane.Generalised[c].AsSpan(0, lane.GeneralisedLength[c]));
        }

        for (int j = 0; j < _codeColumns.Length; j++)
        {
            rows.Codes[(row * _codeColumns.Length) + j] = lane.Code[_codeColumns[j]];
        }

        // The risk keys are built and hashed here, so the consumer only looks the hashes up.
        for (int g = 0; g < _groupings; g++)
        {
            rows.RiskHashes[(row * _groupings) + g] = RiskTally.KeyHash(RiskKey(rows, row, g, blankGeography, ref lane.KeyScratch, lane.DateScratch));
        }

        return true;
    }

    /// <summary>Out of line, so <see cref="FilterRow"/> has no string-formatting locals to clear on every row.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void RejectFieldCount(BatchCounts counts, long line, int fieldCount)
    {
        counts.Rejects.Add(new RejectedRow(line, "(row)", $"has {fieldCount} fields; the header has {_inputFieldCount}"));
        counts.RowsRejected++;
    }

    /// <summary>Applies the row's permission flags, looked up for its batch (-1: the key is in no snapshot).</summary>
    private bool Permitted(Lane lane, int found, out bool blankGeography)
    {
        blankGeography = false;
        DropReason? reason = null;
        var flags = (PermissionFlags)Math.Max(found, 0);
        if (found < 0)
        {
            reason = DropReason.UnknownParticipant;
        }
        else if ((flags & PermissionFlags.Active) == 0)
        {
            reason = DropReason.Withdrawn;
        }
        else if (_spec.NationalOptOutApplies && (flags & PermissionFlags.NationalOptOutApplies) != 0)
        {
            reason = DropReason.NationalOptOut;
        }
        else if ((flags & _spec.RequiredPermissions) != _spec.RequiredPermissions)
        {
            reason = DropReason.DatasetPermission;
        }
        else if (_geoColumns.Length > 0 && (flags & _spec.GeographyPermission) != _spec.GeographyPermission && HasGeography(lane))
        {
            if (_spec.GeographyWhenMissing == GeographyWhenMissing.DropRow)
            {
                reason = DropReason.GeographyPermission;
            }
            else
            {
                blankGeography = true;
            }
        }

        if (reason is { } r)
        {
            lane.Counts.Dropped[(int)r]++;
            return false;
        }

        return true;
    }

    private bool HasGeography(Lane lane)
    {
        foreach (int g in _geoColumns)
        {
            if (!lane.Field(_ordinal[g]).IsEmpty)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a valid value of this column could be shaped like an NHS number or postcode. Dates with separators and
    /// code lists without such codes cannot, so the whole-file count skips them (the sample check still covers them).
    /// </summary>
    private static bool CanLookLikeIdentifier(ColumnSpec column) => column.Type switch
    {
        ColumnType.Date => column.DateFormat!.Pattern.Length is 10 && column.DateFormat.Pattern.All(char.IsAsciiLetter),
        ColumnType.Code => column.Labels.Keys.Any(k => IdentifierShape.LooksLikeNhsNumber(k) || IdentifierShape.LooksLikePostcode(k)),
        _ => true,
    };

    private static void CountShape(BatchCounts counts, int c, ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return;
        }

        counts.NonEmpty[c]++;
        if (value.Length is 10 or 12 && IdentifierShape.LooksLikeNhsNumber(value))
        {
            counts.NhsShaped[c]++;
        }
        else if (value.Length is >= 5 and <= 8 && IdentifierShape.LooksLikePostcode(value))
        {
            counts.PostcodeShaped[c]++;
        }
    }

    /// <summary>Checks one value against its column; <see cref="Describe"/> says why a value failed, out of this hot path.</summary>
    private CheckFailure Check(Lane lane, int c, ReadOnlySpan<char> value)
    {
        var column = _columns[c];
        if (value.IsEmpty)
        {
            // An empty optional value stays empty in the output: nothing of the previous row's value may carry over.
            lane.Code[c] = -1;
            lane.GeneralisedLength[c] = 0;
            return column.Required ? CheckFailure.Required : CheckFailure.None;
        }

        if (column.MaxLength is { } max && value.Length > max)
        {
            return CheckFailure.TooLong;
        }

        switch (column.Type)
        {
            case ColumnType.Integer:
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
                {
                    return CheckFailure.NotInteger;
                }

                if ((column.Min is { } lo && number < lo) || (column.Max is { } hi && number > hi))
                {
                    return CheckFailure.OutOfRange;
                }

                lane.Integer[c] = number;
                break;
            case ColumnType.Decimal:
                if (!IsDecimal(value))
                {
                    return CheckFailure.NotDecimal;
                }

                break;
            case ColumnType.Date:
                if (!column.DateFormat!.TryParse(value, out lane.Year[c], out lane.Month[c], out _))
                {
                    return CheckFailure.NotDate;
                }

                break;
            case ColumnType.Code:
                lane.Code[c] = _codeLists[c]!.IndexOf(value);
                if (lane.Code[c] < 0)
                {
                    return CheckFailure.NotCode;
                }

                break;
        }

        if (column.Rule == ColumnRule.EncryptGeography && !FitsOneBlock(value))
        {
            return CheckFailure.GeographyTooLong;
        }

        if (column.Rule == ColumnRule.Generalise)
        {
            lane.GeneralisedLength[c] = Generalise(lane, column, c, lane.Generalised[c]);
        }

        return CheckFailure.None;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool IsDecimal(ReadOnlySpan<char> value) =>
        decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);

    /// <summary>Why a value is bad, never echoing the value.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static string Describe(CheckFailure failure, ColumnSpec column) => failure switch
    {
        CheckFailure.Required => "is empty but required",
        CheckFailure.TooLong => $"is longer than {column.MaxLength} characters",
        CheckFailure.NotInteger => "is not a whole number",
        CheckFailure.OutOfRange => $"is outside {column.Min}..{column.Max}",
        CheckFailure.NotDecimal => "is not a decimal number (use . as the decimal point)",
        CheckFailure.NotDate => $"is not a valid date in the format {column.DateFormat!.Pattern}",
        CheckFailure.NotCode => "is not in the column's code list",
        CheckFailure.GeographyTooLong => "is longer than 15 UTF-8 bytes, too long to encrypt as a geography",
        _ => throw new ArgumentOutOfRangeException(nameof(failure)),
    };

    private enum CheckFailure
    {
        None,
        Required,
        TooLong,
        NotInteger,
        OutOfRange,
        NotDecimal,
        NotDate,
        NotCode,
        GeographyTooLong,
    }

    /// <summary>At most 15 UTF-8 bytes, counted only when it could be more (over 5 chars and not all ASCII, or over 15).</summary>
    private static bool FitsOneBlock(ReadOnlySpan<char> value) =>
        value.Length <= 5 || (value.Length <= 15 && Ascii.IsValid(value)) || Encoding.UTF8.GetByteCount(value) <= 15;

    private static int Generalise(Lane lane, ColumnSpec column, int c, Span<char> destination)
    {
        int written;
        switch (column.Generalisation)
        {
            case Generalisation.Month:
                return YearMonth(lane.Year[c], lane.Month[c], destination);
            case Generalisation.Year:
                return Year(lane.Year[c], destination);
            default:
                long v = lane.Integer[c];
                if (column.BandTopCode is { } top && v >= top)
                {
                    top.TryFormat(destination, out written, provider: CultureInfo.InvariantCulture);
                    destination[written++] = '+';
                    return written;
                }

                // In 128 bits, so bands at either end of the long range do not overflow. The band just below a top code
                // that is not a multiple of the width ends before it (80-84, then 85+), so no two labels overlap.
                Int128 width = column.BandWidth;
                Int128 x = v;
                Int128 low = (x >= 0 ? x / width : -((-x + width - 1) / width)) * width;
                Int128 high = low + width - 1;
                if (column.BandTopCode is { } topCode && high >= topCode)
                {
                    high = topCode - 1;
                }

                low.TryFormat(destination, out written, provider: CultureInfo.InvariantCulture);
                destination[written++] = '-';
                high.TryFormat(destination[written..], out int h, provider: CultureInfo.InvariantCulture);
                return written + h;
        }
    }

    /// <summary>yyyy (years are 1–9999 after date validation).</summary>
    private static int Year(int year, Span<char> destination)
    {
        destination[0] = (char)('0' + (year / 1000));
        destination[1] = (char)('0' + (year / 100 % 10));
        destination[2] = (char)('0' + (year / 10 % 10));
        destination[3] = (char)('0' + (year % 10));
        return 4;
    }

    /// <summary>yyyy-MM.</summary>
    private static int YearMonth(int year, int month, Span<char> destination)
    {
        Year(year, destination);
        destination[4] = '-';
        destination[5] = (char)('0' + (month / 10));
        destination[6] = (char)('0' + (month % 10));
        return 7;
    }

    /// <summary>Writes the lane's row's output bytes (token slots left for the batch cipher) and hidden digest.</summary>
    private void StageInBatch(Lane lane, OutputBatch b, TokenBytes key, bool blankGeography)
    {
        var rows = lane.Rows;
        int row = lane.Row;
        int r = b.Count;
        b.EnsureBytes(RowByteBound(rows, row));
        int recordStart = b.Used;
        b.RecordStart[r] = recordStart;
        int at = recordStart + DedupStore.RecordHeaderBytes;
        b.LineStart[r] = at;
        bool first = true;
        foreach (int c in _outputColumns)
        {
            if (!first)
            {
                b.Bytes[at++] = (byte)',';
            }

            first = false;
            var column = _columns[c];
            ReadOnlySpan<char> value = rows.Field(row, _ordinal[c]);
            switch (column.Rule)
            {
                case ColumnRule.EncryptId:
                    b.IdSlot[r] = at;
                    key.WriteBytes(b.IdBlocks.AsSpan(r * 16, 16));
                    at += BlockTokenCipher.TokenChars;
                    break;
                case ColumnRule.EncryptGeography:
                    int g = _geoIndex[c];
                    if (blankGeography || value.IsEmpty)
                    {
                        b.GeoSlot[g][r] = -1;
                    }
                    else
                    {
                        b.GeoSlot[g][r] = at;
                        if (!BlockPadding.TryPad(value, b.GeoBlocks[g].AsSpan(b.GeoCount[g] * 16, 16)))
                        {
                            throw new InvalidOperationException("A checked geography value did not fit one block.");
                        }

                        b.GeoRow[g][b.GeoCount[g]++] = r;
                        at += BlockTokenCipher.TokenChars;
                    }

                    break;
                case ColumnRule.Generalise:
                    // A band label such as "-10--1" would be run as a formula: labels are text cells.
                    at += CsvField.WriteText(rows.Generalised(row, _generalisedIndex[c]), b.Bytes.AsSpan(at));
                    break;
                default:
                    switch (_outputKind[c])
                    {
                        case OutputKind.Code:
                            int code = rows.Codes[(row * _codeColumns.Length) + _codeIndex[c]];
                            if (code >= 0)
                            {
                                ReadOnlySpan<byte> bytes = _codeLists[c]!.CsvBytes(code);
                                bytes.CopyTo(b.Bytes.AsSpan(at));
                                at += bytes.Length;
                            }

                            break;
                        case OutputKind.Ascii when Ascii.FromUtf16(value, b.Bytes.AsSpan(at), out int narrowed) == System.Buffers.OperationStatus.Done:
                            at += narrowed;
                            break;
                        case OutputKind.Text:
                            at += CsvField.WriteText(value, b.Bytes.AsSpan(at));
                            break;
                        default:
                            at += CsvField.Write(value, b.Bytes.AsSpan(at));
                            break;
                    }

                    break;
            }
        }

        b.LineEnd[r] = at;
        b.Blanked[r] = blankGeography;
        if (_alwaysHidden || (blankGeography && _hasHidden))
        {
            // Only rows that hide something carry the digest: a row hiding nothing is identified by its output alone,
            // and the differing lengths keep the two kinds from ever comparing equal.
            ReadOnlySpan<byte> hidden = HiddenBytes(lane, blankGeography);
            if (!hidden.IsEmpty)
            {
                RowHasher.Digest128(hidden, b.Bytes.AsSpan(at, DigestBytes));
                at += DigestBytes;
            }
        }

        b.CompareEnd[r] = at;
        DedupStore.WriteRecordHeader(b.Bytes.AsSpan(recordStart), at - b.LineStart[r], b.LineEnd[r] - b.LineStart[r]);
        at += _groupings * 4; // the risk ids, written in input order by the consumer
        b.Used = at;
        b.Count++;
    }

    /// <summary>At most 6 bytes a char (a quoted, doubled quote of 3 bytes), a token or generalised value per column.</summary>
    private int RowByteBound(RowBatch rows, int row) =>
        DedupStore.RecordHeaderBytes + (_groupings * 4) + DigestBytes + (_outputColumns.Length * (BlockTokenCipher.TokenChars + 64)) + (rows.RowChars(row) * 6);

    /// <summary>How a kept column's checked value is written: most need no per-character CSV quoting check.</summary>
    private static OutputKind KindOf(ColumnSpec column) => column switch
    {
        { Type: ColumnType.Code } => OutputKind.Code,
        { Type: ColumnType.Integer } => OutputKind.Ascii,
        { Type: ColumnType.Date } when column.DateFormat!.Pattern.All(ch => char.IsAscii(ch) && ch is not (',' or '"' or '\r' or '\n')) => OutputKind.Ascii,
        { Type: ColumnType.String } => OutputKind.Text,
        _ => OutputKind.Csv,
    };

    private enum OutputKind
    {
        /// <summary>Any value: <see cref="CsvField.Write"/> (checked decimals: a leading '-' is a number's sign, kept).</summary>
        Csv,

        /// <summary>Free text: <see cref="CsvField.WriteText"/>, which neutralises a cell a spreadsheet would run as a formula.</summary>
        Text,

        /// <summary>A checked value that is ASCII with no character CSV quotes (integers, dates of an ASCII pattern).</summary>
        Ascii,

        /// <summary>A code: its precomputed bytes.</summary>
        Code,
    }

    /// <summary>Raw values of columns whose output does not show them (excluded, generalised, blanked geography).</summary>
    private ReadOnlySpan<byte> HiddenBytes(Lane lane, bool blankGeography)
    {
        int used = 0;
        for (int c = 0; c < _columns.Length; c++)
        {
            var rule = _columns[c].Rule;
            if (rule is ColumnRule.Exclude or ColumnRule.Generalise || (rule == ColumnRule.EncryptGeography && blankGeography))
            {
                // Each value behind its length, so no split of the same characters between two columns reads alike.
                ReadOnlySpan<char> value = lane.Field(_ordinal[c]);
                int need = used + Encoding.UTF8.GetMaxByteCount(value.Length) + 4;
                if (need > lane.HiddenScratch.Length)
                {
                    Array.Resize(ref lane.HiddenScratch, need * 2);
                }

                int length = Encoding.UTF8.GetBytes(value, lane.HiddenScratch.AsSpan(used + 4));
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(lane.HiddenScratch.AsSpan(used), length);
                used += 4 + length;
            }
        }

        return lane.HiddenScratch.AsSpan(0, used);
    }

    /// <summary>The values of a risk key built by <see cref="RiskKey"/>.</summary>
    private static List<string> RiskKeyParts(string key)
    {
        var parts = new List<string>();
        for (int at = 0; at + 2 <= key.Length;)
        {
            int length = (key[at] << 16) | key[at + 1];
            parts.Add(key.Substring(at + 2, length));
            at += 2 + length;
        }

        return parts;
    }

    /// <summary>The key of a row in risk grouping <paramref name="g"/> (each value behind its length), built in <paramref name="keyScratch"/>.</summary>
    private ReadOnlySpan<char> RiskKey(RowBatch rows, int row, int g, bool blankGeography, ref char[] keyScratch, char[] dateScratch)
    {
        int used = 0;
        int[] columns = _riskColumns[g];
        Generalisation[] granularities = _riskGranularity[g];
        for (int i = 0; i < columns.Length; i++)
        {
            int c = columns[i];
            var granularity = granularities[i];

            ReadOnlySpan<char> value = rows.Field(row, _ordinal[c]);
            Span<char> scratch = dateScratch;
            if (value.IsEmpty)
            {
                value = [];
            }
            else if (granularity is Generalisation.Year or Generalisation.Month)
            {
                // A checked value holds its year as four digits, which is what Year writes; likewise yyyy-MM.
                var format = _columns[c].DateFormat!;
                if (granularity == Generalisation.Year)
                {
                    value = value.Slice(format.YearOffset, 4);
                }
                else if (format.HasYearDashMonth)
                {
                    value = value.Slice(format.YearOffset, 7);
                }
                else
                {
                    format.TryParse(value, out int year, out int month, out _);
                    value = scratch[..YearMonth(year, month, scratch)];
                }
            }
            else if (_columns[c].Rule == ColumnRule.Generalise)
            {
                value = rows.Generalised(row, _generalisedIndex[c]);
            }
            else if (_columns[c].Rule == ColumnRule.EncryptGeography && blankGeography)
            {
                value = [];
            }

            // Each part behind its length (two chars), so no value, whatever characters it holds, can shift a boundary.
            if (used + value.Length + 2 > keyScratch.Length)
            {
                Array.Resize(ref keyScratch, (used + value.Length + 2) * 2);
            }

            keyScratch[used++] = (char)(value.Length >> 16);
            keyScratch[used++] = (char)value.Length;
            value.CopyTo(keyScratch.AsSpan(used));
            used += value.Length;
        }

        return keyScratch.AsSpan(0, used);
    }

    /// <summary>Encrypts the batch's keys and geographies (one cipher call per column) and fills their slots.</summary>
    private void EncryptBatch(OutputBatch b)
    {
        if (b.Count == 0)
        {
            return;
        }

        // The ciphers are shared by the workers and not thread-safe; one call per batch and column, so the lock is rarely contended.
        Span<byte> ids = b.IdBlocks.AsSpan(0, b.Count * 16);
        lock (_idCipher)
        {
            _idCipher.EncryptBlocks(ids, ids);
        }

        for (int r = 0; r < b.Count; r++)
        {
            TokenCodec.EncodeUtf8(ids.Slice(r * 16, 16), b.Bytes.AsSpan(b.IdSlot[r], BlockTokenCipher.TokenChars));
        }

        for (int g = 0; g < _geoColumns.Length; g++)
        {
            int n = b.GeoCount[g];
            if (n == 0)
            {
                continue;
            }

            Span<byte> geo = b.GeoBlocks[g].AsSpan(0, n * 16);
            lock (_geoCipher)
            {
                _geoCipher.EncryptBlocks(geo, geo);
            }

            for (int k = 0; k < n; k++)
            {
                TokenCodec.EncodeUtf8(geo.Slice(k * 16, 16), b.Bytes.AsSpan(b.GeoSlot[g][b.GeoRow[g][k]], BlockTokenCipher.TokenChars));
            }
        }
    }

    private async Task<long> WriteOutputAsync(DedupStore store, Stream output, CancellationToken cancellationToken)
    {
        byte[] header = Encoding.UTF8.GetBytes(string.Join(',', _outputColumns.Select(c => _columns[c].OutputName)) + "\n");
        long written = await store.ReplayAsync(output, header, _groupings, (ordinal, ids) =>
        {
            long word = ordinal >> 6; // the bitmap only grows as far as the last blanked row
            _geoBlanked += word < _blankedRows.Length ? (long)(_blankedRows[word] >> (int)(ordinal & 63)) & 1 : 0;
            for (int g = 0; g < ids.Length; g++)
            {
                _risk.Add(g, ids[g]);
            }
        }, cancellationToken);
        await output.FlushAsync(cancellationToken);
        return written;
    }

    private CuratedMetadata Metadata(long written)
    {
        var variables = _outputColumns.Select(c => _columns[c]).Select(c => new CuratedVariable(
            c.OutputName, c.Name, c.OutputTypeName, RuleName(c.Rule), c.Description,
            c.Rule == ColumnRule.Generalise ? new Dictionary<string, string>() : c.Labels)).ToList();
        return new CuratedMetadata(
            _spec.DatasetId, _spec.Title, _spec.Owner, _spec.Source, _spec.CitationPrefix, _spec.SpecSha256, "csv",
            variables, written, variables.Count, _idCipher.KeyVersion, _geoCipher.KeyVersion,
            _permissions.Sources.Select(s => $"{s.StudyCode} File 1 v{s.File1Version}").ToList(), _permissions.TokenKeyVersions);
    }

    private static string RuleName(ColumnRule rule) => rule switch
    {
        ColumnRule.EncryptId => "encrypt-id",
        ColumnRule.EncryptGeography => "encrypt-geography",
        _ => rule.ToString().ToLowerInvariant(),
    };

    private DisclosureRiskReport RiskReport()
    {
        int threshold = _options.SmallCellThreshold;
        const int maxCells = 1000;
        var small = new List<SmallCell>();
        long cells = 0;
        bool truncated = false;
        bool complete = true;
        var marginalNames = new List<string>();
        for (int g = 0; g < _spec.Marginals.Count; g++)
        {
            var dims = _spec.Marginals[g].Select(d => _columns[d.ColumnIndex].Name + (d.Granularity == Generalisation.None ? "" : ":" + d.Granularity.ToString().ToLowerInvariant())).ToList();
            string name = string.Join(" × ", dims);
            marginalNames.Add(name);
            complete &= _risk.UntrackedRows(g) == 0;
            foreach (var (key, count) in _risk.Cells(g))
            {
                cells++;
                if (count < threshold)
                {
                    if (small.Count < maxCells)
                    {
                        var values = RiskKeyParts(key);
                        small.Add(new SmallCell(name, string.Join(", ", dims.Zip(values, (d, v) => $"{d}={(v.Length == 0 ? "(empty)" : v)}"))));
                    }
                    else
                    {
                        truncated = true;
                    }
                }
            }
        }

        long combos = 0, rare = 0, rareRecords = 0;
        var qiNames = _spec.QuasiIdentifiers.Select(c => _columns[c].OutputName).ToList();
        if (_spec.QuasiIdentifiers.Count > 0)
        {
            int g = _spec.Marginals.Count;
            complete &= _risk.UntrackedRows(g) == 0;
            foreach (var (_, count) in _risk.Cells(g))
            {
                combos++;
                if (count < threshold)
                {
                    rare++;
                    rareRecords += count;
                }
            }
        }

        var identifierLooking = Enumerable.Range(0, _columns.Length)
            .Where(c => _checkShape[c] && (_nhsShaped[c] > 0 || _postcodeShaped[c] > 0))
            .Select(c => new IdentifierLookingColumn(_columns[c].OutputName, _nhsShaped[c], _postcodeShaped[c], _nonEmpty[c]))
            .ToList();
        return new DisclosureRiskReport(threshold, marginalNames, cells, small, truncated, qiNames, combos, rare, rareRecords, complete, identifierLooking);
    }

    /// <summary>One worker's scratch: the values a row's checks parse, its generalised values, key and digest buffers.</summary>
    private sealed class Lane(int columns)
    {
        public readonly int[] Year = new int[columns];
        public readonly int[] Month = new int[columns];
        public readonly long[] Integer = new long[columns];
        public readonly int[] Code = new int[columns];
        public readonly char[][] Generalised = Enumerable.Range(0, columns).Select(_ => new char[64]).ToArray(); // "lo-hi" of two longs fits in 41
        public readonly int[] GeneralisedLength = new int[columns];
        public readonly char[] DateScratch = new char[16];
        public char[] KeyScratch = new char[256];
        public byte[] HiddenScratch = new byte[1024];

        /// <summary>The batch and row being worked on, and the batch's counts.</summary>
        public RowBatch Rows = null!;
        public int Row;
        public BatchCounts Counts = null!;

        public ReadOnlySpan<char> Field(int ordinal) => Rows.Field(Row, ordinal);
    }
}
