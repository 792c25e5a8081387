"""Every sentence the ``relay`` command prints, in English and French."""

from __future__ import annotations

from relay.contract.i18n import register

register({
    "relay.description": ("Real-time alert relay: run it, manage its units and tokens, audit it.",
                          "Relais d'alertes en temps réel : le lancer, gérer ses unités et ses jetons, l'auditer."),
    "relay.opt.config": ("TOML configuration file (default: $RELAY_CONFIG)",
                         "fichier de configuration TOML (par défaut : $RELAY_CONFIG)"),
    "relay.opt.data_dir": ("data directory (default: $RELAY_DATA_DIR or ~/.local/share/relay)",
                           "répertoire des données (par défaut : $RELAY_DATA_DIR ou ~/.local/share/relay)"),
    "relay.opt.lang": ("language of messages: fr or en (default: from the locale)",
                       "langue des messages : fr ou en (par défaut : celle du système)"),
    "relay.opt.version": ("print the version and exit", "afficher la version et quitter"),
    "relay.cmd.serve": ("run the stream and HTTP servers", "lancer les serveurs du flux et HTTP"),
    "relay.cmd.migrate": ("apply pending database migrations",
                          "appliquer les migrations de la base en attente"),
    "relay.cmd.check_config": ("check the configuration without starting the relay",
                               "vérifier la configuration sans lancer le relais"),
    "relay.cmd.units": ("manage units", "gérer les unités"),
    "relay.cmd.units_add": ("add a unit; prints its first token", "ajouter une unité ; affiche son premier jeton"),
    "relay.cmd.units_list": ("list units", "lister les unités"),
    "relay.cmd.units_set": ("change a unit's roles, name or airport",
                            "changer les rôles, le nom ou l'aéroport d'une unité"),
    "relay.cmd.units_revoke": ("suspend a unit: all its tokens stop working",
                               "suspendre une unité : tous ses jetons cessent de fonctionner"),
    "relay.cmd.units_reinstate": ("lift a unit's suspension (then issue it a new token)",
                                  "lever la suspension d'une unité (puis lui délivrer un nouveau jeton)"),
    "relay.cmd.units_import": ("add the units of a CSV file, all or none; prints their tokens as CSV",
                               "ajouter les unités d'un fichier CSV, toutes ou aucune ; affiche leurs jetons en CSV"),
    "relay.cmd.tokens": ("manage tokens", "gérer les jetons"),
    "relay.cmd.tokens_issue": ("issue another token to a unit", "délivrer un autre jeton à une unité"),
    "relay.cmd.tokens_list": ("list tokens (never the secrets)", "lister les jetons (jamais les secrets)"),
    "relay.cmd.tokens_revoke": ("revoke one token; the unit's others keep working",
                                "révoquer un jeton ; les autres jetons de l'unité restent valides"),
    "relay.cmd.audit": ("audit the event log", "auditer le journal des événements"),
    "relay.cmd.audit_verify": ("recompute the tamper-evident chain; exit 1 naming the first broken seq",
                               "recalculer la chaîne d'intégrité ; code 1 en nommant le premier seq rompu"),
    "relay.arg.unit_id": ("unit id, e.g. ML-BKO-JAITF", "identifiant d'unité, par ex. ML-BKO-JAITF"),
    "relay.arg.token_id": ("public id of the token (tok_...), as tokens list shows it",
                           "identifiant public du jeton (tok_...), tel que l'affiche tokens list"),
    "relay.arg.country": ("ISO 3166-1 country code of the unit, e.g. ML",
                          "code pays ISO 3166-1 de l'unité, par ex. ML"),
    "relay.arg.airport": ("IATA code of the unit's airport, e.g. BKO",
                          "code IATA de l'aéroport de l'unité, par ex. BKO"),
    "relay.arg.name": ("the unit's name as partners read it", "nom de l'unité tel que le lisent les partenaires"),
    "relay.arg.roles": ("comma-separated roles: publish, subscribe, audit, admin",
                        "rôles séparés par des virgules : publish, subscribe, audit, admin"),
    "relay.arg.label": ("where the token is used, e.g. \"terminal 2, gate B\"",
                        "où le jeton sert, par ex. « terminal 2, porte B »"),
    "relay.arg.expires_in": ("days until the token expires (default: never)",
                             "jours avant que le jeton n'expire (par défaut : jamais)"),
    "relay.arg.csv": ("CSV file: unit_id,country,airport,name,roles (roles separated by ; or |)",
                      "fichier CSV : unit_id,country,airport,name,roles (rôles séparés par ; ou |)"),
    "relay.unit_added": ("unit {unit} added with roles {roles}", "unité {unit} ajoutée avec les rôles {roles}"),
    "relay.token_once": ("token (shown once; store it now):", "jeton (affiché une seule fois ; conservez-le maintenant) :"),
    "relay.new_token": ("new token for {unit} (shown once; store it now):",
                        "nouveau jeton pour {unit} (affiché une seule fois ; conservez-le maintenant) :"),
    "relay.unit_changed": ("unit {unit}: roles {roles}, airport {airport}, name {name}",
                           "unité {unit} : rôles {roles}, aéroport {airport}, nom {name}"),
    "relay.unit_suspended": ("unit {unit} suspended ({count} active token(s) revoked)",
                             "unité {unit} suspendue ({count} jeton(s) actif(s) révoqué(s))"),
    "relay.unit_reinstated": ("unit {unit} reinstated; its earlier tokens stay revoked: issue a new one "
                              "with relay tokens issue {unit}",
                              "unité {unit} rétablie ; ses anciens jetons restent révoqués : délivrez-en un "
                              "nouveau avec relay tokens issue {unit}"),
    "relay.token_revoked": ("token {token_id} of {unit} revoked", "jeton {token_id} de {unit} révoqué"),
    "relay.imported": ("{count} unit(s) added", "{count} unité(s) ajoutée(s)"),
    "relay.import_refused": ("nothing was added: {count} problem(s) in {file}",
                             "rien n'a été ajouté : {count} problème(s) dans {file}"),
    "relay.cannot_read": ("cannot read {file}: {reason}", "impossible de lire {file} : {reason}"),
    "relay.migrated": ("migrations applied", "migrations appliquées"),
    "relay.config_error": ("configuration error: {error}", "erreur de configuration : {error}"),
    "relay.config_ok": ("configuration is valid", "la configuration est valide"),
    "relay.no_database": ("cannot reach the database: {error}", "base de données injoignable : {error}"),
    "relay.no_embedded": ("cannot run the embedded database: {error}",
                          "impossible de lancer la base de données intégrée : {error}"),
    "relay.cannot_listen": ("cannot listen on the configured address: {error}",
                            "impossible d'écouter à l'adresse configurée : {error}"),
    "relay.stopped_incomplete": ("stopped, but {error}", "arrêté, mais {error}"),
    "relay.stopped_by_failure": ("stopped because {error} (see the log)",
                                 "arrêté parce que {error} (voir le journal)"),
    "relay.intact": ("intact: {events} events, head {head}, head hash {hash}",
                     "intacte : {events} événements, tête {head}, empreinte de tête {hash}"),
    # relay audit verify: why the chain is broken (relay/store/chain.py REASONS, COLUMNS)
    "relay.chain.missing": ("event {event} is missing", "l'événement {event} manque"),
    "relay.chain.hash_mismatch": ("the hash does not match the event's content and the previous hash",
                                  "l'empreinte ne correspond pas au contenu de l'événement et à "
                                  "l'empreinte précédente"),
    "relay.chain.columns": ("the stored {what} disagrees with the hashed body",
                            "la colonne enregistrée {what} contredit le corps haché"),
    "relay.chain.kept_columns": ("the stored {what} disagrees with the kept body",
                                 "la colonne enregistrée {what} contredit le corps conservé"),
    "relay.chain.receipt_marked": ("a receipt marked masked, reduced or sealed: only alerts ever are",
                                   "un accusé marqué masqué, réduit ou scellé : seules les alertes "
                                   "le sont jamais"),
    "relay.chain.reduced_content": ("a reduced alert holds content that reduction removes",
                                    "une alerte réduite contient ce que la réduction supprime"),
    "relay.chain.masked_personal": ("a masked alert stored before protection still holds personal fields",
                                    "une alerte masquée enregistrée avant la protection contient "
                                    "encore des champs personnels"),
    "relay.chain.not_json": ("the stored body or commitments are not JSON",
                             "le corps ou les engagements enregistrés ne sont pas du JSON"),
    "relay.chain.bad_shape": ("the stored body or commitments are not of their shape",
                              "le corps ou les engagements enregistrés n'ont pas leur forme"),
    "relay.chain.not_encoding": ("the stored body is not in the relay's encoding: its bytes were changed",
                                 "le corps enregistré n'est pas dans l'encodage du relais : ses "
                                 "octets ont été modifiés"),
    "relay.chain.digest_mismatch": ("the digest kept beside the event does not match its content",
                                    "le condensé conservé à côté de l'événement ne correspond pas "
                                    "à son contenu"),
    "relay.chain.msgpack_differs": ("the stored MessagePack body is not the stored JSON body",
                                    "le corps MessagePack enregistré n'est pas le corps JSON "
                                    "enregistré"),
    "relay.chain.masked_not_passenger": ("an alert marked masked that is not a passenger alert",
                                         "une alerte marquée masquée qui n'est pas une alerte "
                                         "passager"),
    "relay.chain.fields_destroyed": ("the sealed personal fields of an alert neither masked nor "
                                     "reduced were destroyed",
                                     "les champs personnels scellés d'une alerte ni masquée ni "
                                     "réduite ont été détruits"),
    "relay.chain.no_data_key": ("sealed personal fields without their data key",
                                "des champs personnels scellés sans leur clé de données"),
    "relay.chain.key_missing": ("the sealed personal fields do not open: key {key} is not in the key file",
                                "les champs personnels scellés ne s'ouvrent pas : la clé {key} "
                                "n'est pas dans le fichier de clés"),
    "relay.chain.sealed_not_opening": ("the sealed personal fields do not open: altered, or moved "
                                       "from another alert",
                                       "les champs personnels scellés ne s'ouvrent pas : modifiés, "
                                       "ou déplacés depuis une autre alerte"),
    "relay.chain.sealed_other_fields": ("the sealed personal fields are not the ones committed to",
                                        "les champs personnels scellés ne sont pas ceux des "
                                        "engagements"),
    "relay.chain.sealed_field_differs": ("the sealed field {path} differs from its commitment",
                                         "le champ scellé {path} diffère de son engagement"),
    "relay.chain.original_not_json": ("the sealed original body is not JSON",
                                      "le corps d'origine scellé n'est pas du JSON"),
    "relay.chain.original_mismatch": ("the stored body is not the sealed original without its "
                                      "personal fields",
                                      "le corps enregistré n'est pas l'original scellé sans ses "
                                      "champs personnels"),
    "relay.chain.bad_commitments": ("the commitments are not of their shape",
                                    "les engagements n'ont pas leur forme"),
    "relay.chain.tail_missing": ("the head says seq {head}, but the log ends at seq {last}: events "
                                 "are missing at the end",
                                 "la tête indique le seq {head}, mais le journal s'arrête au seq "
                                 "{last} : des événements manquent à la fin"),
    "relay.chain.past_head": ("the log goes on to seq {last} past the head's seq {head}: events were "
                              "added without the relay",
                              "le journal continue jusqu'au seq {last} au-delà du seq {head} de la "
                              "tête : des événements ont été ajoutés sans le relais"),
    "relay.chain.head_rewritten": ("the newest event's hash differs from the one the head recorded: "
                                   "the log was rewritten",
                                   "l'empreinte du dernier événement diffère de celle que la tête a "
                                   "notée : le journal a été réécrit"),
    "relay.chain.column.alert_id": ("alert_id", "alert_id"),
    "relay.chain.column.receipt": ("receipt author or status", "auteur ou statut de l'accusé"),
    "relay.chain.column.receipt_origin": ("origin_unit (not the origin of the receipt's alert)",
                                          "origin_unit (pas l'origine de l'alerte de l'accusé)"),
    "relay.chain.column.origin_unit": ("origin_unit", "origin_unit"),
    "relay.chain.column.origin_relay": ("origin_relay", "origin_relay"),
    "relay.chain.column.audience": ("audience", "audience"),
    "relay.chain.column.audience_without_peer": (
        "origin_relay (an event with an audience came from no peer)",
        "origin_relay (un événement avec une audience ne venait d'aucun pair)"),
    "relay.chain.column.facts": ("distribution, TLP or filter facts",
                                 "distribution, TLP ou faits de filtrage"),
    "relay.broken": ("broken at seq {seq}: {reason} ({events} events verified before it)",
                     "rompue au seq {seq} : {reason} ({events} événements vérifiés avant)"),
    "relay.arg.export": ("recompute the chain from an NDJSON export alone, without the database",
                         "recalculer la chaîne à partir d'un export NDJSON seul, sans la base de données"),
    "relay.arg.filtered": ("the export was asked with filters: it may start after seq 1 and skip seqs "
                           "(each run of consecutive seqs is verified)",
                           "l'export a été demandé avec des filtres : il peut commencer après le seq 1 et "
                           "sauter des seq (chaque suite de seq consécutifs est vérifiée)"),
    "relay.filtered_needs_export": ("--filtered goes with --export FILE.ndjson",
                                    "--filtered s'emploie avec --export FICHIER.ndjson"),
    "relay.export_verified": ("export verified: {events} events ({alerts} alerts, {receipts} receipts), "
                              "seq {first} to {last}, last hash {hash}",
                              "export vérifié : {events} événements ({alerts} alertes, {receipts} accusés), "
                              "seq {first} à {last}, dernière empreinte {hash}"),
    "relay.export_complete": ("complete from seq 1: compare seq {last} and its hash with a head hash "
                              "recorded elsewhere",
                              "complet depuis le seq 1 : comparez le seq {last} et son empreinte à une "
                              "empreinte de tête notée ailleurs"),
    "relay.export_runs": ("{runs} runs of consecutive seqs (the first gap after seq {gap}): each event "
                          "matches its hash and each run is linked, but the events between runs are "
                          "not in the export, so the links across the gaps are not checked",
                          "{runs} suites de seq consécutifs (premier trou après le seq {gap}) : chaque "
                          "événement correspond à son empreinte et chaque suite est liée, mais les "
                          "événements entre les suites ne sont pas dans l'export : les liens par-dessus "
                          "les trous ne sont pas vérifiés"),
    "relay.export_content_removed": (
        "{count} events stored before personal-data protection no longer hold what their hash "
        "covers (masked or reduced): they are linked to their neighbours, their content is not "
        "recomputed (docs/protection.md)",
        "{count} événements enregistrés avant la protection des données personnelles ne "
        "contiennent plus ce que couvre leur empreinte (masqués ou réduits) : ils sont liés à "
        "leurs voisins, leur contenu n'est pas recalculé (docs/protection.md)"),
    "relay.export_one_run": ("one run of consecutive seqs from seq {first}: the events before it are not "
                             "in the export",
                             "une seule suite de seq consécutifs depuis le seq {first} : les événements "
                             "d'avant ne sont pas dans l'export"),
    "relay.export_broken": ("export broken at seq {seq} (line {line}): {reason}",
                            "export rompu au seq {seq} (ligne {line}) : {reason}"),
    "relay.export_broken_line": ("export broken at line {line}: {reason}",
                                 "export rompu à la ligne {line} : {reason}"),
    "relay.export_unverified": ("export not verified: {reason}", "export non vérifié : {reason}"),
    "relay.export_problem.not_json": ("the line is not a JSON object (each line of an export is one event)",
                                      "la ligne n'est pas un objet JSON (chaque ligne d'un export est un "
                                      "événement)"),
    "relay.export_problem.bad_field": ("the field {field} is missing or not valid",
                                       "le champ {field} manque ou n'est pas valide"),
    "relay.export_problem.no_prev_hash": ("the export states no previous hash (null): when it was "
                                          "exported, the relay's log had no event just before this one",
                                          "l'export n'indique pas d'empreinte précédente (null) : lors de "
                                          "l'export, le journal du relais n'avait pas d'événement juste "
                                          "avant celui-ci"),
    "relay.export_problem.member_differs": ("the {member} differs from the hashed body: the line was changed",
                                            "le champ {member} diffère du corps haché (body) : la ligne a "
                                            "été modifiée"),
    "relay.export_problem.hash_mismatch": ("the hash does not match the event's seq, kind and body and the "
                                           "previous hash it states: the line was changed",
                                           "l'empreinte n'est pas celle du seq, du type et du corps de "
                                           "l'événement sur l'empreinte précédente indiquée : la ligne a "
                                           "été modifiée"),
    "relay.export_problem.not_genesis": ("seq 1 must start from the genesis (64 zeros as its previous hash)",
                                         "le seq 1 doit partir de l'origine (64 zéros comme empreinte "
                                         "précédente)"),
    "relay.export_problem.out_of_order": ("it comes after seq {previous}: the lines were moved or repeated",
                                          "il vient après le seq {previous} : les lignes ont été déplacées "
                                          "ou répétées"),
    "relay.export_problem.missing_start": ("the export starts at seq {found}, so seq 1 and those after it "
                                           "are missing (add --filtered if the export was asked with "
                                           "filters)",
                                           "l'export commence au seq {found} : le seq 1 et les suivants "
                                           "manquent (ajoutez --filtered si l'export a été demandé avec "
                                           "des filtres)"),
    "relay.export_problem.missing_seq": ("missing: seq {found} comes right after seq {previous} (add "
                                         "--filtered if the export was asked with filters)",
                                         "manquant : le seq {found} suit directement le seq {previous} "
                                         "(ajoutez --filtered si l'export a été demandé avec des filtres)"),
    "relay.export_problem.broken_link": ("its hash is not the previous hash that seq {next} states: the "
                                         "event was changed and its hash recomputed",
                                         "son empreinte n'est pas l'empreinte précédente qu'indique le "
                                         "seq {next} : l'événement a été modifié et son empreinte "
                                         "recalculée"),
    "relay.export_problem.relinked": ("it links to neither seq {previous} nor seq {next}: its previous "
                                      "hash and its hash were rewritten",
                                      "il n'est lié ni au seq {previous} ni au seq {next} : son empreinte "
                                      "précédente et son empreinte ont été réécrites"),
    "relay.export_problem.empty": ("the file holds no event line", "le fichier ne contient aucune ligne "
                                   "d'événement"),
    "relay.none": ("none", "aucun"),
    "relay.active": ("active", "en service"),
    "relay.suspended": ("suspended", "suspendue"),
    "relay.revoked": ("revoked", "révoqué"),
    "relay.expired": ("expired", "expiré"),
    "relay.valid": ("valid", "valide"),
    "relay.never": ("never", "jamais"),
    "relay.units_header": ("UNIT|CC|APT|ROLES|TOKENS|STATE|NAME",
                           "UNITÉ|PAYS|AÉR|RÔLES|JETONS|ÉTAT|NOM"),
    "relay.tokens_header": ("TOKEN_ID|UNIT|STATE|CREATED|EXPIRES|LAST USED|LABEL",
                            "JETON|UNITÉ|ÉTAT|CRÉÉ|EXPIRE|DERNIER USAGE|LIBELLÉ"),
    "relay.summary_file": ("configuration file: {path}", "fichier de configuration : {path}"),
    "relay.summary_defaults": ("configuration file: none (defaults and RELAY_* variables)",
                               "fichier de configuration : aucun (valeurs par défaut et variables RELAY_*)"),
    "relay.summary_data_dir": ("data directory: {path}", "répertoire des données : {path}"),
    "relay.summary_database": ("database: {where}", "base de données : {where}"),
    "relay.summary_embedded": ("embedded PostgreSQL in the data directory",
                               "PostgreSQL intégré dans le répertoire des données"),
    "relay.summary_stream": ("stream: {scheme}://{host}:{port}/v1/stream", "flux : {scheme}://{host}:{port}/v1/stream"),
    "relay.summary_http": ("HTTP: {scheme}://{host}:{port}", "HTTP : {scheme}://{host}:{port}"),
    "relay.summary_regions": ("regions: {regions}", "régions : {regions}"),
    # federation (federation.md)
    "relay.cmd.peers": ("manage peer relays (federation)", "gérer les relais pairs (fédération)"),
    "relay.cmd.peers_add": ("grant a peer relay access to what reaches some countries; prints its"
                            " federation token",
                            "accorder à un relais pair l'accès à ce qui concerne des pays ; affiche"
                            " son jeton de fédération"),
    "relay.cmd.peers_list": ("list the peer relays: scope, link state, last event applied, lag",
                             "lister les relais pairs : périmètre, état du lien, dernier événement"
                             " appliqué, retard"),
    "relay.cmd.peers_revoke": ("cut a peer relay: its token stops working within 5 seconds",
                               "couper un relais pair : son jeton cesse de fonctionner sous 5 secondes"),
    "relay.arg.peer_id": ("id of the peer relay, e.g. SN or G5-PCMS",
                          "identifiant du relais pair, par ex. SN ou G5-PCMS"),
    "relay.arg.peer_countries": ("comma-separated ISO 3166-1 codes the peer may receive, e.g. SN,GM",
                                 "codes ISO 3166-1 séparés par des virgules que le pair peut recevoir,"
                                 " par ex. SN,GM"),
    "relay.peer_added": ("peer {peer} granted for {countries}", "pair {peer} autorisé pour {countries}"),
    "relay.peer_token": ("federation token for {peer} (shown once; give it to its operator):",
                         "jeton de fédération pour {peer} (affiché une seule fois ; remettez-le à son"
                         " opérateur) :"),
    "relay.peer_revoked": ("peer {peer} revoked: its links close within 5 seconds",
                           "pair {peer} révoqué : ses liens se ferment sous 5 secondes"),
    "relay.peers_header": ("PEER|SCOPE|GRANT|LINK|SINCE|POSITION|LAST APPLIED|BEHIND|UNITS|ERROR",
                           "PAIR|PÉRIMÈTRE|ACCÈS|LIEN|DEPUIS|POSITION|DERNIER APPLIQUÉ|RETARD|UNITÉS|ERREUR"),
    "relay.remote": ("remote ({relay})", "distante ({relay})"),
    "relay.link.up": ("up", "actif"),
    "relay.link.down": ("down", "coupé"),
    "relay.link.refused": ("refused", "refusé"),
    "relay.summary_relay": ("relay id: {relay}; links to: {peers}",
                            "identifiant du relais : {relay} ; liens vers : {peers}"),
    # passengers' personal data (protection.md)
    "relay.key_file_created": ("created the protection key file {file}: keep it secret and back it up "
                               "apart from the database. Without it the passengers' personal fields "
                               "cannot be read; whoever holds it and a copy of the database can read them",
                               "fichier de clés de protection {file} créé : gardez-le secret et "
                               "sauvegardez-le à part de la base de données. Sans lui, les champs "
                               "personnels des passagers sont illisibles ; qui le détient avec une copie "
                               "de la base peut les lire"),
    "relay.cmd.keys": ("manage the keys that protect passengers' personal data",
                       "gérer les clés qui protègent les données personnelles des passagers"),
    "relay.cmd.keys_list": ("list the keys of the key file and how many data keys each still wraps",
                            "lister les clés du fichier de clés et le nombre de clés de données que "
                            "chacune chiffre encore"),
    "relay.cmd.keys_rotate": ("add a new current key and re-wrap every data key under it (relays keep "
                              "running)",
                              "ajouter une nouvelle clé courante et rechiffrer toutes les clés de données "
                              "avec elle (les relais continuent de tourner)"),
    "relay.cmd.keys_retire": ("remove an unused key that is not the current one from the key file",
                              "retirer du fichier de clés une clé inutilisée qui n'est pas la clé courante"),
    "relay.arg.key_id": ("id of the key (k-...), as keys list shows it",
                         "identifiant de la clé (k-...), tel que l'affiche keys list"),
    "relay.key_file": ("key file: {file}", "fichier de clés : {file}"),
    "relay.keys_header": ("KEY|CREATED|DATA KEYS|STATE", "CLÉ|CRÉÉE|CLÉS DE DONNÉES|ÉTAT"),
    "relay.key_state.current": ("current (wraps new data keys)",
                                "courante (chiffre les nouvelles clés de données)"),
    "relay.key_state.in_use": ("in use: run relay keys rotate before retiring it",
                               "en usage : lancez relay keys rotate avant de la retirer"),
    "relay.key_state.unused": ("unused: can be retired", "inutilisée : peut être retirée"),
    "relay.key_state.missing": ("MISSING from the key file: data unreadable",
                                "ABSENTE du fichier de clés : données illisibles"),
    "relay.key_missing": ("{count} data key(s) are wrapped under key {key}, which the key file {file} "
                          "does not hold: the personal fields they protect cannot be read. Put the key "
                          "back from the backup of the key file",
                          "{count} clé(s) de données sont chiffrées avec la clé {key}, absente du "
                          "fichier de clés {file} : les champs personnels qu'elles protègent sont "
                          "illisibles. Remettez la clé en place depuis la sauvegarde du fichier de clés"),
    "relay.key_file_error": ("key file: {error}", "fichier de clés : {error}"),
    "relay.rotate_refused_missing": ("nothing was rotated: the data keys under the missing key(s) could "
                                     "not be re-wrapped",
                                     "aucune rotation : les clés de données chiffrées avec la ou les clés "
                                     "absentes ne pourraient pas être rechiffrées"),
    "relay.key_added": ("new current key {key} added to {file}; re-wrapping the data keys under it...",
                        "nouvelle clé courante {key} ajoutée à {file} ; rechiffrement des clés de "
                        "données avec elle..."),
    "relay.rewrapped": ("key {key} is current: {count} data key(s) re-wrapped under it; relay keys list "
                        "shows the earlier keys now unused, which can be retired",
                        "la clé {key} est la clé courante : {count} clé(s) de données rechiffrée(s) "
                        "avec elle ; relay keys list montre les anciennes clés désormais inutilisées, "
                        "qui peuvent être retirées"),
    "relay.rewrap_failed": ("key {key} is current, but re-wrapping stopped: {error} (run relay keys "
                            "rotate again once it is fixed)",
                            "la clé {key} est la clé courante, mais le rechiffrement s'est arrêté : "
                            "{error} (relancez relay keys rotate une fois le problème réglé)"),
    "relay.retire_unknown": ("the key file {file} holds no key {key}",
                             "le fichier de clés {file} ne contient pas de clé {key}"),
    "relay.retire_current": ("key {key} is the current key: it wraps new data keys; run relay keys "
                             "rotate first, then retire it",
                             "la clé {key} est la clé courante : elle chiffre les nouvelles clés de "
                             "données ; lancez d'abord relay keys rotate, puis retirez-la"),
    "relay.retire_in_use": ("key {key} still wraps {count} data key(s): retiring it would make their "
                            "personal fields unreadable; run relay keys rotate first",
                            "la clé {key} chiffre encore {count} clé(s) de données : la retirer rendrait "
                            "leurs champs personnels illisibles ; lancez d'abord relay keys rotate"),
    "relay.retire_failed": ("key {key} not retired: {error}", "clé {key} non retirée : {error}"),
    "relay.key_retired": ("key {key} retired from {file} (copies of it in older backups of the key "
                          "file remain: destroy them too if it must be gone)",
                          "clé {key} retirée de {file} (ses copies dans d'anciennes sauvegardes du "
                          "fichier de clés subsistent : détruisez-les aussi si elle doit disparaître)"),
    "relay.cmd.protection": ("protection of passengers' personal data: jobs and holds",
                             "protection des données personnelles des passagers : traitements et gels"),
    "relay.cmd.protection_run": ("mask and reduce now what is due (as of --now, if given)",
                                 "masquer et réduire maintenant ce qui est échu (à la date --now, si "
                                 "elle est donnée)"),
    "relay.cmd.protection_hold": ("keep an alert out of masking and reduction until a date",
                                  "soustraire une alerte au masquage et à la réduction jusqu'à une date"),
    "relay.cmd.protection_holds": ("list the holds: who, why, until when",
                                   "lister les gels : qui, pourquoi, jusqu'à quand"),
    "relay.arg.now": ("the moment to run as: YYYY-MM-DD (00:00 UTC) or RFC 3339 (default: now)",
                      "le moment à considérer : AAAA-MM-JJ (00:00 UTC) ou RFC 3339 (par défaut : "
                      "maintenant)"),
    "relay.arg.alert_id": ("id of the alert", "identifiant de l'alerte"),
    "relay.arg.reason": ("why: the link to an investigation (recorded in the access log)",
                         "pourquoi : le lien avec une enquête (consigné dans le journal des accès)"),
    "relay.arg.until": ("until when: YYYY-MM-DD (00:00 UTC) or RFC 3339",
                        "jusqu'à quand : AAAA-MM-JJ (00:00 UTC) ou RFC 3339"),
    "relay.arg.alert_filter": ("only the holds of this alert", "seulement les gels de cette alerte"),
    "relay.bad_date": ("{option} {value} is not a date: give YYYY-MM-DD or an RFC 3339 timestamp such "
                       "as 2026-12-01T16:40:00Z",
                       "{option} {value} n'est pas une date : indiquez AAAA-MM-JJ ou un horodatage "
                       "RFC 3339 comme 2026-12-01T16:40:00Z"),
    "relay.protection_ran": ("as of {now}: {masked} alert(s) masked, {reduced} reduced, {shredded} data "
                             "key(s) destroyed",
                             "à la date du {now} : {masked} alerte(s) masquée(s), {reduced} réduite(s), "
                             "{shredded} clé(s) de données détruite(s)"),
    "relay.hold_no_reason": ("--reason must say why the alert is held (its link to an investigation)",
                             "--reason doit dire pourquoi l'alerte est gelée (son lien avec une enquête)"),
    "relay.hold_reason_too_long": ("--reason is too long: {length} characters, at most {limit}",
                                   "--reason est trop long : {length} caractères, {limit} au plus"),
    "relay.hold_reason_control": ("--reason contains a control character ({character})",
                                  "--reason contient un caractère de contrôle ({character})"),
    "relay.hold_until_past": ("--until {value} is not in the future",
                              "--until {value} n'est pas dans le futur"),
    "relay.no_such_alert": ("no alert {alert}", "aucune alerte {alert}"),
    "relay.bad_alert_id": ("--alert {value} is not an alert id", "--alert {value} n'est pas un "
                           "identifiant d'alerte"),
    "relay.hold_placed": ("hold {hold} placed on alert {alert} until {until}",
                          "gel {hold} posé sur l'alerte {alert} jusqu'au {until}"),
    "relay.hold_already_masked": ("alert {alert} is already masked or reduced: the hold does not bring "
                                  "its personal fields back, it only keeps what is left from the next "
                                  "step",
                                  "l'alerte {alert} est déjà masquée ou réduite : le gel ne rétablit pas "
                                  "ses champs personnels, il protège seulement ce qui reste de l'étape "
                                  "suivante"),
    "relay.holds_header": ("HOLD|ALERT|UNTIL|STATE|BY|AT|REASON",
                           "GEL|ALERTE|JUSQU'AU|ÉTAT|PAR|LE|MOTIF"),
    "relay.hold_state.active": ("active", "en vigueur"),
    "relay.hold_state.expired": ("expired", "expiré"),
})
