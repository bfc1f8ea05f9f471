namespace Linkage.File2;

/// <summary>The pipeline's own count check failed: a bug, never a data problem; the output must not be committed.</summary>
public sealed class CountsDoNotReconcileException(string message) : Exception(message);
