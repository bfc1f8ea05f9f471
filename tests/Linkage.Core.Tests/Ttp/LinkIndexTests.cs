using Linkage.Permissions;
using Linkage.Ttp;

namespace Linkage.Core.Tests.Ttp;

public class LinkIndexTests
{
    private static Participant Person(ulong token, ulong? key) => new(new TokenBytes(0, token)) { LinkKey = key is { } k ? (UInt128)k : null };

    [Fact]
    public void Except_lists_the_pairs_the_newer_index_no_longer_has()
    {
        var older = LinkIndex.From("BIB", [Person(1, 10), Person(2, 20), Person(3, 30), Person(4, 40), Person(5, null)]);
        // 1 unchanged; 2 left; 3's key changed (NHS number corrected); 4 is now a different token under the same key; 6 is new.
        var newer = LinkIndex.From("BIB", [Person(1, 10), Person(3, 31), Person(7, 40), Person(6, 60)]);

        var gone = older.Except(newer).Select(p => (Key: (ulong)p.Key, Token: p.Token.Low)).ToList();

        Assert.Equal([(20UL, 2UL), (30UL, 3UL), (40UL, 4UL)], gone);
        Assert.Empty(newer.Except(newer));
        Assert.Equal(4, newer.Except(LinkIndex.From("BIB", [])).Count());
    }
}
