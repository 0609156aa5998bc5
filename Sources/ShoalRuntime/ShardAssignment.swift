/// How input objects (or items) are dealt to the instances of a job (spec §4.3).
public enum ShardAssignment {
    /// Item *i* goes to instance `(i mod count)`; the caller sorts the items
    /// (object keys by UTF-8 bytes). Every instance gets a list, maybe empty,
    /// and list sizes differ by at most one.
    public static func deal<Item>(_ items: [Item], among count: Int) -> [[Item]] {
        precondition(count > 0, "a job has at least one instance")
        var shares = Array(repeating: [Item](), count: count)
        for (index, item) in items.enumerated() { shares[index % count].append(item) }
        return shares
    }
}
