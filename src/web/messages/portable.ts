// Messages of moving and backing up an instance (src/portable, `coopol export|import|backup`). French first; every key has its English twin.
export const fr = {
  "portable_no_database": "Pas de base de données dans {dir} (coopol.sqlite) : vérifiez COOPOL_DATA.",
  "portable_out_exists": "Le fichier {file} existe déjà : choisissez un autre nom, l'export n'écrase rien.",
  "portable_archive_missing": "Le fichier {file} n'existe pas.",
  "portable_data_not_empty": "Le dossier de données {dir} n'est pas vide : l'import ne remplace jamais une instance existante. Indiquez un dossier vide dans COOPOL_DATA.",
  "portable_not_archive": "{file} n'est pas une archive d'instance Coopol lisible (un fichier .tar.gz fait par « coopol export ») : il est peut-être incomplet ou abîmé.",
  "portable_unsafe_entry": "L'archive contient une entrée refusée (« {path} ») : une archive de Coopol ne contient que des fichiers ordinaires, sans lien, sans chemin absolu ni « .. », de taille raisonnable, nommés manifest.json, coopol.sqlite ou media/….",
  "portable_format_newer": "Cette archive vient d'une version plus récente de Coopol (format {format} ; cette version lit jusqu'au format {supported}) : mettez Coopol à jour avant de l'importer.",
  "portable_origin_mismatch": "Cette archive est celle de {archive}, pas de {target} : un déménagement garde la même adresse, car les autres serveurs connaissent l'instance par elle. Mettez COOPOL_ORIGIN={archive} dans la configuration.",
  "portable_checksum": "L'archive est abîmée ou a été modifiée : « {path} » ne correspond pas à l'empreinte notée dans son manifeste. Reprenez une autre copie de l'archive.",
  "portable_keep_invalid": "--keep doit être un nombre entier entre 1 et 1000.",
} as const;

export const en: Record<keyof typeof fr, string> = {
  "portable_no_database": "No database in {dir} (coopol.sqlite): check COOPOL_DATA.",
  "portable_out_exists": "The file {file} already exists: choose another name, export overwrites nothing.",
  "portable_archive_missing": "The file {file} does not exist.",
  "portable_data_not_empty": "The data directory {dir} is not empty: import never replaces an existing instance. Set COOPOL_DATA to an empty directory.",
  "portable_not_archive": "{file} is not a readable Coopol instance archive (a .tar.gz made by “coopol export”): it may be incomplete or damaged.",
  "portable_unsafe_entry": "The archive holds a refused entry (“{path}”): a Coopol archive holds only plain files, no links, no absolute path or “..”, of reasonable size, named manifest.json, coopol.sqlite or media/….",
  "portable_format_newer": "This archive comes from a newer version of Coopol (format {format}; this version reads up to format {supported}): update Coopol before importing it.",
  "portable_origin_mismatch": "This archive is {archive}'s, not {target}'s: a move keeps the same address, since other servers know the instance by it. Set COOPOL_ORIGIN={archive} in the configuration.",
  "portable_checksum": "The archive is damaged or was modified: “{path}” does not match the fingerprint in its manifest. Take another copy of the archive.",
  "portable_keep_invalid": "--keep must be a whole number between 1 and 1000.",
};
