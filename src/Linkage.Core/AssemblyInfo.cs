// Linkage.Core holds the pure domain of the split-file linkage pipeline: no Azure SDK types here.
