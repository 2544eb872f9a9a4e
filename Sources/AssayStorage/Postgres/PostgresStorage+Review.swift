public import AssayCore
/// Review projects, the queue, leases and decisions.
extension PostgresStorage {
    private static let projectColumns = """
        SELECT p.id, o.id, p.name, n.id, p.reviewers_per_row, p.instructions, p.consensus, p.tie_breaker, p.created_at
        FROM review_projects p JOIN organizations o ON o.seq = p.org JOIN ontologies n ON n.seq = p.ontology
        """

    private static func decodeProject(_ s: PostgresRow) throws(StorageError) -> ReviewProject {
        guard let consensus = ConsensusRule(rawValue: s.text(6)) else { throw .internal("stored project has unknown consensus \(s.text(6))") }
        return ReviewProject(
            id: ObjectID(rawValue: s.text(0)), organizationID: ObjectID(rawValue: s.text(1)), name: s.text(2),
            ontologyID: ObjectID(rawValue: s.text(3)), reviewersPerRow: s.int(4), instructions: s.text(5), consensus: consensus,
            tieBreakerKeyID: s.optionalText(7).map(ObjectID.init(rawValue:)), createdAt: s.int64(8))
    }

    public func createReviewProject(_ project: ReviewProject) async throws(StorageError) -> ReviewProject {
        try await write { connection throws(StorageError) in
            guard let org = try connection.organizationSeq(project.organizationID) else {
                throw .notFound("organization \(project.organizationID)")
            }
            guard
                let ontology = try connection.queryFirst(
                    "SELECT seq FROM ontologies WHERE id = ? AND org = ?", [.text(project.ontologyID.rawValue), .integer(org)],
                    { $0.int64(0) })
            else { throw .notFound("ontology \(project.ontologyID)") }
            try connection.run(
                """
                INSERT INTO review_projects (id, org, name, ontology, reviewers_per_row, instructions, consensus, tie_breaker, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(project.id.rawValue), .integer(org), .text(project.name), .integer(ontology),
                    .integer(Int64(project.reviewersPerRow)), .text(project.instructions), .text(project.consensus.rawValue),
                    .optionalText(project.tieBreakerKeyID?.rawValue), .integer(project.createdAt),
                ])
            return project
        }
    }

    public func reviewProject(organization: ObjectID, id: ObjectID) async throws(StorageError) -> ReviewProject {
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.projectColumns + " WHERE p.id = ? AND o.id = ?", [.text(id.rawValue), .text(organization.rawValue)],
                Self.decodeProject)
        }
        guard let found else { throw .notFound("review project \(id)") }
        return found
    }

    public func reviewProjects(organization: ObjectID) async throws(StorageError) -> [ReviewProject] {
        try await read { connection throws(StorageError) in
            try connection.query(Self.projectColumns + " WHERE o.id = ? ORDER BY p.seq", [.text(organization.rawValue)], Self.decodeProject)
        }
    }

    /// The project's seq, its organisation's, and its ontology's seq and id; NOT_FOUND otherwise.
    private static func projectSeqs(_ connection: PostgresConnection, organization: ObjectID, project: ObjectID) throws(StorageError)
        -> (project: Int64, org: Int64, ontology: Int64, ontologyID: ObjectID)
    {
        let found = try connection.queryFirst(
            """
            SELECT p.seq, p.org, p.ontology, n.id FROM review_projects p JOIN organizations o ON o.seq = p.org
            JOIN ontologies n ON n.seq = p.ontology WHERE p.id = ? AND o.id = ?
            """,
            [.text(project.rawValue), .text(organization.rawValue)]
        ) { s in (s.int64(0), s.int64(1), s.int64(2), ObjectID(rawValue: s.text(3))) }
        guard let found else { throw .notFound("review project \(project)") }
        return found
    }

    public func queueReviewRows(organization: ObjectID, project: ObjectID, sendID: String, rows: [NewReviewRow], at: Timestamp)
        async throws(StorageError) -> QueuedReviewRows
    {
        let ids = rowIDs
        var prepared: [(Int64, NewReviewRow, String)] = []
        prepared.reserveCapacity(rows.count)
        for row in rows {
            guard let rowid = ids.rowid(for: row.rowID) else { throw .notFound("data row \(row.rowID)") }
            prepared.append((rowid, row, DomainJSON.children(row.preLabels)))
        }
        let frozen = prepared
        return try await write { connection throws(StorageError) in
            let seqs = try Self.projectSeqs(connection, organization: organization, project: project)
            var queued = 0
            var already = 0
            for (rowid, row, json) in frozen {
                guard
                    try connection.queryFirst(
                        "SELECT 1 FROM data_rows WHERE seq = ? AND org = ?", [.integer(rowid), .integer(seqs.org)], { _ in true }) != nil
                else { throw .notFound("data row \(row.rowID)") }
                let inserted = try connection.run(
                    """
                    INSERT INTO review_rows (project, org, data_row, send_id, priority, conflict, source_run, pre_labels, queued_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, data_row) DO NOTHING
                    """,
                    [
                        .integer(seqs.project), .integer(seqs.org), .integer(rowid), .text(sendID), .integer(Int64(row.priority)),
                        .text(row.conflict.rawValue), .optionalText(row.sourceRunID?.rawValue), .text(json), .integer(at),
                    ])
                if inserted == 1 { queued += 1 } else { already += 1 }
            }
            return QueuedReviewRows(queued: queued, alreadyQueued: already)
        }
    }

    public func reviewRowCount(organization: ObjectID, project: ObjectID, sendID: String) async throws(StorageError) -> Int {
        try await read { connection throws(StorageError) in
            let seqs = try Self.projectSeqs(connection, organization: organization, project: project)
            return try connection.queryFirst(
                "SELECT count(*) FROM review_rows WHERE project = ? AND send_id = ?", [.integer(seqs.project), .text(sendID)], { $0.int(0) }) ?? 0
        }
    }

    public func claimReviewTask(
        organization: ObjectID, project: ObjectID, reviewer: ObjectID, reviewersPerRow: Int, now: Timestamp, leaseUntil: Timestamp
    ) async throws(StorageError) -> ReviewAssignment? {
        let ids = rowIDs
        return try await write { connection throws(StorageError) in
            let seqs = try Self.projectSeqs(connection, organization: organization, project: project)
            // Leasing and submitting in one organisation queue here on every server, so two
            // reviewers never take the last free place on a row together.
            try connection.lock(.review, seqs.org)
            let candidate = try connection.queryFirst(
                """
                SELECT r.seq, r.data_row, r.priority, r.pre_labels, r.conflict FROM review_rows r
                WHERE r.project = ? AND r.finalized = 0
                  AND EXISTS (SELECT 1 FROM data_rows d WHERE d.seq = r.data_row)
                  AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.review_row = r.seq AND a.reviewer = ?
                                  AND (a.state != 'leased' OR a.expires_at > ?))
                  AND (SELECT count(*) FROM review_assignments a WHERE a.review_row = r.seq
                       AND (a.state = 'submitted' OR (a.state = 'leased' AND a.expires_at > ?))) < ?
                ORDER BY r.priority DESC, r.seq LIMIT 1
                """,
                [.integer(seqs.project), .text(reviewer.rawValue), .integer(now), .integer(now), .integer(Int64(reviewersPerRow))]
            ) { s throws(StorageError) in
                let row = ids.id(for: s.int64(1))
                guard let conflict = ConflictRule(rawValue: s.text(4)) else { throw .internal("stored review row has unknown conflict rule") }
                return (
                    s.int64(0), row, s.int(2), try DomainJSON.children(from: s.bytes(3), row: row, ontology: seqs.ontologyID), conflict
                )
            }
            guard let (reviewRow, rowID, priority, preLabels, conflict) = candidate else { return nil }
            let id = ObjectID.random("rvt")
            try connection.run(
                "INSERT INTO review_assignments (id, review_row, org, reviewer, state, leased_at, expires_at) VALUES (?, ?, ?, ?, 'leased', ?, ?)",
                [.text(id.rawValue), .integer(reviewRow), .integer(seqs.org), .text(reviewer.rawValue), .integer(now), .integer(leaseUntil)])
            return ReviewAssignment(
                id: id, projectID: project, rowID: rowID, reviewerKeyID: reviewer, priority: priority, preLabels: preLabels, conflict: conflict,
                state: .leased, leasedAt: now, leaseExpiresAt: leaseUntil)
        }
    }

    private static let assignmentColumns = """
        SELECT a.seq, a.id, p.id, r.data_row, a.reviewer, r.priority, r.pre_labels, r.conflict, a.state, a.leased_at, a.expires_at,
               n.id, r.seq, r.finalized, p.ontology, r.org
        FROM review_assignments a JOIN review_rows r ON r.seq = a.review_row JOIN review_projects p ON p.seq = r.project
        JOIN ontologies n ON n.seq = p.ontology JOIN organizations o ON o.seq = a.org
        """

    private struct AssignmentRow {
        var seq: Int64
        var assignment: ReviewAssignment
        var reviewRow: Int64
        var dataRow: Int64
        var finalized: Bool
        var ontology: Int64
        var org: Int64
    }

    private static func decodeAssignment(_ s: PostgresRow, _ ids: RowIDCipher) throws(StorageError) -> AssignmentRow {
        let row = ids.id(for: s.int64(3))
        let ontology = ObjectID(rawValue: s.text(11))
        guard let conflict = ConflictRule(rawValue: s.text(7)), let state = ReviewAssignment.State(rawValue: s.text(8)) else {
            throw .internal("stored review assignment has an unknown state")
        }
        return AssignmentRow(
            seq: s.int64(0),
            assignment: ReviewAssignment(
                id: ObjectID(rawValue: s.text(1)), projectID: ObjectID(rawValue: s.text(2)), rowID: row,
                reviewerKeyID: ObjectID(rawValue: s.text(4)), priority: s.int(5),
                preLabels: try DomainJSON.children(from: s.bytes(6), row: row, ontology: ontology), conflict: conflict, state: state,
                leasedAt: s.int64(9), leaseExpiresAt: s.int64(10)),
            reviewRow: s.int64(12), dataRow: s.int64(3), finalized: s.int64(13) != 0, ontology: s.int64(14), org: s.int64(15))
    }

    public func reviewAssignment(organization: ObjectID, id: ObjectID) async throws(StorageError) -> ReviewAssignment {
        let ids = rowIDs
        let found = try await read { connection throws(StorageError) in
            try connection.queryFirst(
                Self.assignmentColumns + " WHERE a.id = ? AND o.id = ?", [.text(id.rawValue), .text(organization.rawValue)]
            ) { s throws(StorageError) in try Self.decodeAssignment(s, ids) }
        }
        guard let found else { throw .notFound("review task \(id)") }
        return found.assignment
    }

    public func submitReview(
        organization: ObjectID, assignment: ObjectID, reviewer: ObjectID, decisions: [ReviewDecisionRecord], result: [Label], skipReason: String?,
        reviewersPerRow: Int, at: Timestamp, consensus: @escaping @Sendable ([SubmittedReview]) -> ReviewConsensus
    ) async throws(StorageError) -> Result<ReviewSubmission, ReviewSubmitRefusal> {
        let ids = rowIDs
        let resultJSON = DomainJSON.children(result)
        let decisionRows = decisions.map { d in
            (d.action?.rawValue, d.preLabelID?.rawValue, d.label.map { DomainJSON.children([$0]) }, d.skipReason, d.decidedAt)
        }
        return try await write { connection throws(StorageError) in
            if let org = try connection.organizationSeq(organization) { try connection.lock(.review, org) }
            guard
                let found = try connection.queryFirst(
                    Self.assignmentColumns + " WHERE a.id = ? AND o.id = ?", [.text(assignment.rawValue), .text(organization.rawValue)],
                    { s throws(StorageError) in try Self.decodeAssignment(s, ids) })
            else { throw .notFound("review task \(assignment)") }
            let a = found.assignment
            guard a.reviewerKeyID == reviewer else { return .failure(.notHolder) }
            guard a.state == .leased else { return .failure(.alreadyAnswered(a.state)) }
            guard a.leaseExpiresAt > at else { return .failure(.expired(at: a.leaseExpiresAt)) }
            for d in decisionRows {
                try connection.run(
                    """
                    INSERT INTO review_decisions (assignment, org, reviewer, action, pre_label, label, skip_reason, decided_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(found.seq), .integer(found.org), .text(reviewer.rawValue), .optionalText(d.0), .optionalText(d.1),
                        .optionalText(d.2), .optionalText(d.3), .integer(d.4),
                    ])
            }
            if skipReason != nil {
                try connection.run(
                    "UPDATE review_assignments SET state = 'skipped', answered_at = ? WHERE seq = ?", [.integer(at), .integer(found.seq)])
                return .success(ReviewSubmission(finalized: nil))
            }
            try connection.run(
                "UPDATE review_assignments SET state = 'submitted', answered_at = ?, result = ? WHERE seq = ?",
                [.integer(at), .text(resultJSON), .integer(found.seq)])
            guard !found.finalized else { return .success(ReviewSubmission(finalized: nil)) }
            let ontologyID = a.preLabels.first?.ontologyID
            let ontology = try connection.queryFirst("SELECT id FROM ontologies WHERE seq = ?", [.integer(found.ontology)]) { $0.text(0) }
            let ontologyObject = ObjectID(rawValue: ontology ?? ontologyID?.rawValue ?? "")
            let reviews = try connection.query(
                """
                SELECT reviewer, answered_at, result FROM review_assignments
                WHERE review_row = ? AND state = 'submitted' ORDER BY answered_at, seq
                """, [.integer(found.reviewRow)]
            ) { s throws(StorageError) in
                SubmittedReview(
                    reviewerKeyID: ObjectID(rawValue: s.text(0)), submittedAt: s.int64(1),
                    labels: try DomainJSON.children(from: s.bytes(2), row: a.rowID, ontology: ontologyObject))
            }
            guard reviews.count >= reviewersPerRow else { return .success(ReviewSubmission(finalized: nil)) }
            var outcome = consensus(reviews)
            outcome.labels = outcome.labels.map { l in
                var l = l
                l.dataRowID = a.rowID
                l.ontologyID = ontologyObject
                l.modelRunID = nil
                l.confidencePPM = nil
                if l.createdAt == 0 { l.createdAt = at }
                return l
            }
            let rowExists =
                try connection.queryFirst(
                    "SELECT 1 FROM data_rows WHERE seq = ? AND org = ?", [.integer(found.dataRow), .integer(found.org)], { _ in true }) != nil
            if rowExists {
                if a.conflict == .override {
                    try connection.run(
                        "DELETE FROM labels WHERE data_row = ? AND org = ? AND ontology = ? AND model_run_id IS NULL",
                        [.integer(found.dataRow), .integer(found.org), .integer(found.ontology)])
                }
                for label in outcome.labels {
                    try connection.insertLabel(label, org: found.org, row: found.dataRow, ontology: found.ontology, now: at)
                }
            }
            try connection.run(
                "UPDATE review_rows SET finalized = 1, agreement = ?, final_labels = ?, finalized_at = ? WHERE seq = ?",
                [.real(outcome.agreement), .text(DomainJSON.children(outcome.labels)), .integer(at), .integer(found.reviewRow)])
            return .success(ReviewSubmission(finalized: outcome))
        }
    }

    public func reviewCounts(organization: ObjectID, project: ObjectID, at: Timestamp) async throws(StorageError) -> ReviewCounts {
        try await read { connection throws(StorageError) in
            let seqs = try Self.projectSeqs(connection, organization: organization, project: project)
            let p = SQLValue.integer(seqs.project)
            let rows =
                try connection.queryFirst(
                    "SELECT count(*), coalesce(sum(finalized), 0), coalesce(avg(CASE WHEN finalized = 1 THEN agreement END), 0) FROM review_rows WHERE project = ?",
                    [p]
                ) { s in (s.int(0), s.int(1), s.double(2)) } ?? (0, 0, 0)
            let assignments =
                try connection.queryFirst(
                    """
                    SELECT coalesce(count(*) FILTER (WHERE a.state = 'leased' AND a.expires_at > ?), 0), count(*) FILTER (WHERE a.state = 'submitted'),
                           count(*) FILTER (WHERE a.state = 'skipped')
                    FROM review_assignments a JOIN review_rows r ON r.seq = a.review_row WHERE r.project = ?
                    """, [.integer(at), p]
                ) { s in (s.int(0), s.int(1), s.int(2)) } ?? (0, 0, 0)
            let inReview =
                try connection.queryFirst(
                    """
                    SELECT count(*) FROM review_rows r WHERE r.project = ? AND r.finalized = 0 AND EXISTS (
                        SELECT 1 FROM review_assignments a WHERE a.review_row = r.seq
                        AND (a.state = 'submitted' OR (a.state = 'leased' AND a.expires_at > ?)))
                    """, [p, .integer(at)], { $0.int(0) }) ?? 0
            return ReviewCounts(
                rows: rows.0, finalized: rows.1, inReview: inReview, leasesHeld: assignments.0, reviewsSubmitted: assignments.1,
                skips: assignments.2, meanAgreement: rows.2)
        }
    }

    public func reviewedRows(organization: ObjectID, project: ObjectID, after position: Int64, limit: Int, decisions: Bool)
        async throws(StorageError) -> [ReviewedRowRecord]
    {
        let ids = rowIDs
        return try await read { connection throws(StorageError) in
            let seqs = try Self.projectSeqs(connection, organization: organization, project: project)
            var rows = try connection.query(
                """
                SELECT r.seq, r.data_row, coalesce(d.global_key, ''), r.finalized, coalesce(r.agreement, 0), coalesce(r.final_labels, '[]')
                FROM review_rows r LEFT JOIN data_rows d ON d.seq = r.data_row
                WHERE r.project = ? AND r.seq > ? ORDER BY r.seq LIMIT ?
                """, [.integer(seqs.project), .integer(position), .integer(Int64(limit))]
            ) { s throws(StorageError) in
                let row = ids.id(for: s.int64(1))
                return ReviewedRowRecord(
                    position: s.int64(0), rowID: row, globalKey: s.text(2), finalized: s.int64(3) != 0, agreement: s.double(4),
                    finalLabels: try DomainJSON.children(from: s.bytes(5), row: row, ontology: seqs.ontologyID), decisions: [])
            }
            guard decisions else { return rows }
            for i in rows.indices {
                let row = rows[i].rowID
                rows[i].decisions = try connection.query(
                    """
                    SELECT a.id, d.reviewer, d.action, d.pre_label, d.label, d.skip_reason, d.decided_at
                    FROM review_decisions d JOIN review_assignments a ON a.seq = d.assignment
                    WHERE a.review_row = ? ORDER BY d.seq
                    """, [.integer(rows[i].position)]
                ) { s throws(StorageError) in
                    let label = try s.optionalText(4).map { _ throws(StorageError) in
                        try DomainJSON.children(from: s.bytes(4), row: row, ontology: seqs.ontologyID).first
                    } ?? nil
                    return ReviewDecisionRecord(
                        assignmentID: ObjectID(rawValue: s.text(0)), reviewerKeyID: ObjectID(rawValue: s.text(1)),
                        action: s.optionalText(2).flatMap(ReviewActionKind.init(rawValue:)),
                        preLabelID: s.optionalText(3).map(ObjectID.init(rawValue:)), label: label, skipReason: s.optionalText(5),
                        decidedAt: s.int64(6))
                }
            }
            return rows
        }
    }
}
