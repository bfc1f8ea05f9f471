namespace Linkage.DevStack;

/// <summary>The local stack could not be installed, started or found.</summary>
public class LocalStackException : Exception
{
    public LocalStackException(string message)
        : base(message)
    {
    }

    public LocalStackException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
