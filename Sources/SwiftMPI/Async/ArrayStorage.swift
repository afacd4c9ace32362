extension Array where Element: BitwiseCopyable {
    /// The object that owns this array's elements. An operation that reads or writes the elements
    /// after the call returns (a nonblocking send of an array, a receive into a moved-in array) hands
    /// it to the engine as its `keepAlive`, so the elements neither move nor are freed while the
    /// operation is in flight — without allocating a box per message.
    ///
    /// An array is one reference to its storage object (`Array` is `@frozen`, and Linux has no
    /// bridged arrays); the cast copies that reference, retained like any other. The empty array's
    /// storage is a static object, retained and released like the rest.
    @inlinable
    var storageOwner: AnyObject {
        unsafeBitCast(self, to: AnyObject.self)
    }
}
