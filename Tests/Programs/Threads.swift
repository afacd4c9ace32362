#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// Starts `count` threads that each receive from `source` (nothing is ever sent) and waits for them.
/// (Outside main.swift, whose top-level closures are main-actor isolated and may not run on threads
/// of their own.)
func receiveOnThreads(_ world: Communicator, count: Int, from source: Int) {
    final class Shared: @unchecked Sendable {  // immutable after init
        let world: Communicator
        let source: Int
        init(_ world: Communicator, _ source: Int) {
            self.world = world
            self.source = source
        }
    }
    var threads: [pthread_t] = []
    for _ in 0..<count {
        var thread = pthread_t()
        pthread_create(
            &thread, nil,
            { raw in
                let shared = Unmanaged<Shared>.fromOpaque(raw!).takeRetainedValue()
                var value = [0]
                _ = try? shared.world.recv(into: &value, from: shared.source, tag: 99)
                return nil
            }, Unmanaged.passRetained(Shared(world, source)).toOpaque())
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}
