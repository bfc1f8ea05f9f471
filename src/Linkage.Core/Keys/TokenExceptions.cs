namespace Linkage.Keys;

// Messages never carry the value or token concerned: both may be (or decrypt to) identifiers.

/// <summary>A value cannot be tokenised with the chosen cipher (too long for one block, empty, not valid text).</summary>
public sealed class TokenInputException(string message) : ArgumentException(message);

/// <summary>A token is malformed, or does not decrypt to a well-formed value under the key it was given.</summary>
public sealed class InvalidTokenException(string message) : FormatException(message);

/// <summary>A data key has been destroyed (crypto-shredded): its tokens can never be produced or reversed again.</summary>
public sealed class KeyDestroyedException(string purpose, int version)
    : InvalidOperationException($"Data key '{purpose}' version {version} has been destroyed; its tokens are unrecoverable.")
{
    public string Purpose { get; } = purpose;

    public int Version { get; } = version;
}
