namespace Linkage.File2;

/// <summary>The pipeline's own count check failed: a bug, never a data problem; the output must not be committed.</summary>
public sealed class CountsDoNotReconcileException(string message) : Exception(message);

/// <summary>The delivery cannot be parsed (bad UTF-8, malformed CSV); becomes <see cref="File2Outcome.Unreadable"/>.</summary>
internal sealed class UnreadableFileException(string message) : Exception(message);
