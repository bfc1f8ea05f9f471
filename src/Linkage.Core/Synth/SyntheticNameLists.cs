namespace Linkage.Synth;

/// <summary>
/// Small built-in lists for realistic but obviously synthetic identifiers: common British names, and towns and counties
/// taken from fiction (Ambridge, Borsetshire, Casterbridge…), so no generated address is anyone's real address.
/// Values never contain commas or quotes, so File 1 rows need no CSV quoting.
/// </summary>
public static class SyntheticNameLists
{
    public static IReadOnlyList<string> MaleForenames { get; } =
    [
        "OLIVER", "GEORGE", "HARRY", "JACK", "JACOB", "NOAH", "CHARLIE", "MUHAMMAD", "THOMAS", "OSCAR",
        "WILLIAM", "JAMES", "HENRY", "LEO", "ALFIE", "JOSHUA", "FREDDIE", "ARCHIE", "ETHAN", "ISAAC",
        "DAVID", "JOHN", "MICHAEL", "PAUL", "ANDREW", "MARK", "RICHARD", "PETER", "STEPHEN", "CHRISTOPHER",
        "DANIEL", "MATTHEW", "ROBERT", "IAN", "GARETH", "RHYS", "DYLAN", "OWEN", "RORY", "CALLUM",
    ];

    public static IReadOnlyList<string> FemaleForenames { get; } =
    [
        "OLIVIA", "AMELIA", "ISLA", "AVA", "EMILY", "SOPHIA", "GRACE", "MIA", "POPPY", "ELLA",
        "LILY", "EVIE", "ISABELLA", "SOPHIE", "IVY", "FREYA", "HARPER", "WILLOW", "CHARLOTTE", "JESSICA",
        "SARAH", "KAREN", "SUSAN", "ELIZABETH", "MARGARET", "HELEN", "JULIE", "CLAIRE", "EMMA", "RACHEL",
        "LAURA", "NICOLA", "REBECCA", "ZARA", "AISHA", "SIAN", "CERYS", "FFION", "MAIREAD", "NIAMH",
    ];

    public static IReadOnlyList<string> Surnames { get; } =
    [
        "SMITH", "JONES", "WILLIAMS", "TAYLOR", "BROWN", "DAVIES", "EVANS", "WILSON", "THOMAS", "JOHNSON",
        "ROBERTS", "ROBINSON", "THOMPSON", "WRIGHT", "WALKER", "WHITE", "EDWARDS", "HUGHES", "GREEN", "HALL",
        "LEWIS", "HARRIS", "CLARKE", "PATEL", "JACKSON", "WOOD", "TURNER", "MARTIN", "COOPER", "HILL",
        "WARD", "MORRIS", "MOORE", "CLARK", "LEE", "KING", "BAKER", "HARRISON", "MORGAN", "ALLEN",
        "JAMES", "SCOTT", "PHILLIPS", "WATSON", "DAVIS", "PARKER", "PRICE", "BENNETT", "YOUNG", "GRIFFITHS",
        "MITCHELL", "KELLY", "COOK", "CARTER", "RICHARDSON", "BAILEY", "COLLINS", "BELL", "SHAW", "MURPHY",
        "MILLER", "COX", "RICHARDS", "KHAN", "MARSHALL", "ANDERSON", "SIMPSON", "ELLIS", "ADAMS", "SINGH",
        "BEGUM", "WILKINSON", "FOSTER", "CHAPMAN", "POWELL", "WEBB", "ROGERS", "GRAY", "MASON", "ALI",
        "HUNT", "HUSSAIN", "CAMPBELL", "MATTHEWS", "OWEN", "PALMER", "HOLMES", "MILLS", "BARNES", "KNIGHT",
        "LLOYD", "BUTLER", "RUSSELL", "BARKER", "FISHER", "STEVENS", "JENKINS", "MURRAY", "DIXON", "O'BRIEN",
        "MCDONALD", "HOLLOWAY-SMITH", "AHMED", "NGUYEN", "KOWALSKI",
    ];

    public static IReadOnlyList<string> StreetNames { get; } =
    [
        "CHURCH", "HIGH", "MAIN", "PARK", "VICTORIA", "STATION", "GREEN", "MANOR", "KINGS", "QUEENS",
        "NEW", "SCHOOL", "MILL", "OAK", "ELM", "ASH", "WILLOW", "MEADOW", "ORCHARD", "CASTLE",
        "BRIDGE", "ALBERT", "GROVE", "CHESTNUT", "BEECH", "HAWTHORN", "ROWAN", "LARCH", "BROOK", "FARM",
    ];

    public static IReadOnlyList<string> StreetTypes { get; } =
        ["STREET", "ROAD", "LANE", "AVENUE", "CLOSE", "DRIVE", "WAY", "CRESCENT", "GARDENS", "TERRACE"];

    public static IReadOnlyList<string> Localities { get; } =
    [
        "UPPER ROW", "LOWER GREEN", "NORTH END", "SOUTHFIELD", "EASTGATE", "WESTCOTT", "HILLSIDE", "BROOKSIDE",
    ];

    /// <summary>Fictional towns, each with its fictional county.</summary>
    public static IReadOnlyList<(string Town, string County)> Towns { get; } =
    [
        ("AMBRIDGE", "BORSETSHIRE"), ("BORCHESTER", "BORSETSHIRE"), ("FELPERSHAM", "BORSETSHIRE"),
        ("CASTERBRIDGE", "WESSEX"), ("MELCHESTER", "WESSEX"), ("CHRISTMINSTER", "WESSEX"),
        ("BARCHESTER", "BARSETSHIRE"), ("MIDDLEMARCH", "LOAMSHIRE"), ("CAUSTON", "MIDSOMER"),
        ("TRUMPTON", "WESTERSHIRE"), ("CHIGLEY", "WESTERSHIRE"), ("GREENDALE", "CUMBRIA VALE"),
        ("WALFORD", "EAST LONDON"), ("WEATHERFIELD", "GREATER MANCHESTER"), ("HOLBY", "WESSEX"),
        ("LLAREGGUB", "CARMARTHEN BAY"), ("PONTYPANDY", "MORGANNWG"), ("ST MARY MEAD", "DOWNSHIRE"),
        ("KINGSBRIDGE", "SHIRING"), ("ROYSTON VASEY", "NORTHSHIRE"),
    ];

    /// <summary>Shorter forms used on "alternative name" historical rows.</summary>
    public static string ShortForm(string forename) => forename switch
    {
        "WILLIAM" => "BILL",
        "ROBERT" => "BOB",
        "RICHARD" => "DICK",
        "MICHAEL" => "MIKE",
        "CHRISTOPHER" => "CHRIS",
        "ELIZABETH" => "LIZ",
        "MARGARET" => "MAGGIE",
        "REBECCA" => "BECKY",
        "NICOLA" => "NICKY",
        "JAMES" => "JIM",
        "THOMAS" => "TOM",
        "MATTHEW" => "MATT",
        "DANIEL" => "DAN",
        "ALFIE" => "ALFRED",
        _ => forename.Length > 4 ? forename[..4] : forename + "IE",
    };
}
