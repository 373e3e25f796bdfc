import SwiftUI

@main
struct InksealConsumerApp: App {
    var body: some Scene {
        WindowGroup { ContentView() }
    }
}
