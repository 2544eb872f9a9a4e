public import AssayCore

/// The providers a server has, and their cards by id.
public struct ModelRegistry: Sendable {
    public let providers: [any ModelProvider]
    private let byModel: [String: Int]

    /// Later providers do not replace a model id an earlier one serves.
    public init(providers: [any ModelProvider]) {
        self.providers = providers
        var byModel: [String: Int] = [:]
        for (i, provider) in providers.enumerated() {
            for card in provider.cards where byModel[card.id] == nil { byModel[card.id] = i }
        }
        self.byModel = byModel
    }

    /// Every card, sorted by id.
    public var cards: [ModelCard] {
        providers.flatMap(\.cards).filter { byModel[$0.id] != nil }.sorted { $0.id < $1.id }
            .reduce(into: [ModelCard]()) { if $0.last?.id != $1.id { $0.append($1) } }
    }

    public func card(_ id: String) -> ModelCard? {
        guard let i = byModel[id] else { return nil }
        return providers[i].cards.first { $0.id == id }
    }

    public func provider(for id: String) -> (any ModelProvider)? {
        byModel[id].map { providers[$0] }
    }
}
