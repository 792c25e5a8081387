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
})
