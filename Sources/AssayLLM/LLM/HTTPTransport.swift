public import AssayModels
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP request as the LLM clients send it.
public struct HTTPRequest: Hashable, Sendable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A complete HTTP response (the body already de-chunked).
public struct HTTPResponse: Hashable, Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why no response arrived. Every case is worth retrying except `invalidURL`.
public enum HTTPError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidURL(String)
    /// Refused, reset, unreachable, DNS failure, TLS failure.
    case connection(String)
    /// No complete response within the timeout.
    case timedOut(Duration)
    case cancelled

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL \(url)"
        case .connection(let reason): "connection failed: \(reason)"
        case .timedOut(let limit): "no response within \(limit)"
        case .cancelled: "cancelled"
        }
    }
}

/// Sends HTTP requests without blocking the caller's thread. The LLM clients see only this,
/// so tests and other transports can stand in for the default one.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the whole response, or fails after `timeout` in total.
    func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPError) -> HTTPResponse
}

/// HTTP/1.1 and HTTPS through Foundation's URLSession (libcurl underneath on Linux): it
/// handles Content-Length and chunked bodies, keep-alive and TLS on its own threads, so no
/// cooperative thread waits on a socket.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        // Concurrency is bounded by the providers; let the session keep that many connections.
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)
    }

    deinit { session.invalidateAndCancel() }

    public func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPError) -> HTTPResponse {
        guard let url = URL(string: request.url), let scheme = url.scheme, scheme == "http" || scheme == "https", url.host != nil
        else { throw .invalidURL(request.url) }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: seconds)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        // The first of the response, the timeout and the caller's cancellation answers, and
        // the URLSession task is cancelled then: the caller never waits for a task that is
        // slow to notice its cancellation (libcurl's can outlive it by the server's delay).
        let exchange = Exchange()
        let task = session.dataTask(with: urlRequest) { data, response, error in
            exchange.finish(Self.outcome(data: data, response: response, error: error, request: request, timeout: timeout))
        }
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>) in
                exchange.start(continuation, task: task)
                // URLSession's own timeout is an idle timeout; this one bounds the whole exchange.
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { exchange.finish(.failure(.timedOut(timeout))) }
                task.resume()
            }
        } onCancel: {
            exchange.finish(.failure(.cancelled))
        }
        return try outcome.get()
    }

    /// One request's answer, given once: whichever of the response, the timeout and the
    /// cancellation comes first resumes the caller and cancels the URLSession task.
    private final class Exchange: @unchecked Sendable {
        // @unchecked: every member is guarded by `lock`.
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>?
        private var task: URLSessionDataTask?
        /// An answer that came before `start` (cancelled before the task began).
        private var early: Result<HTTPResponse, HTTPError>?
        private var done = false

        func start(_ continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>, task: URLSessionDataTask) {
            lock.lock()
            if let early {
                lock.unlock()
                task.cancel()
                continuation.resume(returning: early)
                return
            }
            self.continuation = continuation
            self.task = task
            lock.unlock()
        }

        func finish(_ result: Result<HTTPResponse, HTTPError>) {
            lock.lock()
            guard !done else {
                lock.unlock()
                return
            }
            done = true
            let continuation = self.continuation
            let task = self.task
            if continuation == nil { early = result }
            self.continuation = nil
            self.task = nil
            lock.unlock()
            task?.cancel()
            continuation?.resume(returning: result)
        }
    }

    /// What the URLSession task's completion means.
    private static func outcome(
        data: Data?, response: URLResponse?, error: (any Error)?, request: HTTPRequest, timeout: Duration
    ) -> Result<HTTPResponse, HTTPError> {
        if let error = error as? URLError {
            switch error.code {
            case .timedOut: return .failure(.timedOut(timeout))
            case .cancelled: return .failure(.cancelled)
            case .badURL, .unsupportedURL: return .failure(.invalidURL(request.url))
            default: return .failure(.connection(describe(error)))
            }
        }
        if let error { return .failure(.connection(String(describing: error))) }
        guard let http = response as? HTTPURLResponse else { return .failure(.connection("not an HTTP response")) }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return .success(HTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data ?? Data())))
    }

    private static func describe(_ error: URLError) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        let text = underlying?.localizedDescription ?? error.localizedDescription
        return "\(text) (URLError \(error.code.rawValue))"
    }
}
