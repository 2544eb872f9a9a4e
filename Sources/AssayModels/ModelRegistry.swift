public import AssayCore

/// The providers a server has, and their cards by id. A provider's cards may change while
/// the server runs (remote workers come and go), so lookups ask the providers each time.
public struct ModelRegistry: Sendable {
    public let providers: [any ModelProvider]

    /// Later providers do not replace a model id an earlier one serves.
    public init(providers: [any ModelProvider]) {
        self.providers = providers
    }

    /// The same providers and one more, after them (it serves no id they already serve).
    public func adding(_ provider: any ModelProvider) -> ModelRegistry {
        ModelRegistry(providers: providers + [provider])
    }

    /// Every card, sorted by id; for an id served twice, the earlier provider's card.
    public var cards: [ModelCard] {
        var seen: Set<String> = []
        var out: [ModelCard] = []
        for provider in providers {
            for card in provider.cards where seen.insert(card.id).inserted { out.append(card) }
        }
        return out.sorted { $0.id < $1.id }
    }

    public func card(_ id: String) -> ModelCard? {
        for provider in providers {
            if let card = provider.cards.first(where: { $0.id == id }) { return card }
        }
        return nil
    }

    public func provider(for id: String) -> (any ModelProvider)? {
        providers.first { $0.cards.contains { $0.id == id } }
    }
}
